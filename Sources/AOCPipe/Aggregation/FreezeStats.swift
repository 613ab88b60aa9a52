/// Freeze latency of a window: from a case's `reported` to each of its `frozen` events.
///
/// Latencies are kept exactly (milliseconds) per window and summarised at the end, so the
/// mean is exact and the percentiles are exact nearest-rank values (well inside the 1% the
/// metrics promise). A window holds only its own frozen events, so memory grows with
/// accounts frozen, not with calls.
public struct FreezeStats: Sendable, Equatable {
    public var count = 0
    public var meanMinutes = 0.0
    public var p50Minutes = 0.0
    public var p90Minutes = 0.0
    public var p99Minutes = 0.0
    public var maxMinutes = 0.0
    /// Share of latencies at or under the SLA, 0...1 (0 when there are none).
    public var withinSLA = 0.0

    public init() {}

    /// Summarises latencies in milliseconds. Sorts `latencies` in place.
    public init(latencies: inout [Int], slaMillis: Int) {
        count = latencies.count
        guard count > 0 else { return }
        latencies.sort()
        let total = latencies.reduce(0, +)
        meanMinutes = Double(total) / Double(count) / 60_000
        func rank(_ q: Double) -> Double {
            // Nearest rank: the smallest value with at least q of the values at or below it.
            var r = Int((q * Double(count)).rounded(.up))
            r = min(max(r, 1), count)
            return Double(latencies[r - 1]) / 60_000
        }
        p50Minutes = rank(0.50)
        p90Minutes = rank(0.90)
        p99Minutes = rank(0.99)
        maxMinutes = Double(latencies[count - 1]) / 60_000
        var within = 0
        for l in latencies where l <= slaMillis { within += 1 }
        withinSLA = Double(within) / Double(count)
    }
}
