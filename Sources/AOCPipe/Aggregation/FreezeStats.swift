import Dispatch
import Synchronization

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
    /// Sum of the latencies (ms), and how many are at or under the SLA: what adds up
    /// across windows and agents.
    public var sumMillis = 0
    public var withinSLACount = 0

    public init() {}

    /// Summarises latencies in milliseconds. Reorders `latencies` in place: the three ranks
    /// are found by selection (linear time), not by sorting.
    public init(latencies: inout [Int], slaMillis: Int) {
        count = latencies.count
        guard count > 0 else { return }
        var total = 0, maximum = Int.min, within = 0
        for l in latencies {
            total += l
            if l > maximum { maximum = l }
            if l <= slaMillis { within += 1 }
        }
        meanMinutes = Double(total) / Double(count) / 60_000
        sumMillis = total
        withinSLACount = within
        maxMinutes = Double(maximum) / 60_000
        withinSLA = Double(within) / Double(count)
        func rank(_ q: Double) -> Int {
            // Nearest rank: the smallest value with at least q of the values at or below it.
            min(max(Int((q * Double(count)).rounded(.up)), 1), count) - 1
        }
        // Largest rank first: each selection leaves the smaller values in front of it, where
        // the next one looks.
        let r99 = rank(0.99), r90 = rank(0.90), r50 = rank(0.50)
        latencies.withUnsafeMutableBufferPointer { a in
            Self.select(a, r99, upTo: count)
            Self.select(a, r90, upTo: r99 + 1)
            Self.select(a, r50, upTo: r90 + 1)
        }
        p99Minutes = Double(latencies[r99]) / 60_000
        p90Minutes = Double(latencies[r90]) / 60_000
        p50Minutes = Double(latencies[r50]) / 60_000
    }

    /// The summaries of many windows' latencies, worked out on every core, largest first.
    /// Reorders each group in place.
    static func summaries(of groups: inout [[Int]], slaMillis: Int) -> [FreezeStats] {
        var out = [FreezeStats](repeating: FreezeStats(), count: groups.count)
        let order = groups.indices.sorted { groups[$0].count > groups[$1].count }
        let next = Atomic<Int>(0)
        groups.withUnsafeMutableBufferPointer { g in
            out.withUnsafeMutableBufferPointer { o in
                // Each index is taken by one thread only (the counter hands them out).
                nonisolated(unsafe) let groups = g, results = o
                DispatchQueue.concurrentPerform(iterations: min(groups.count, 4)) { _ in
                    while true {
                        let n = next.add(1, ordering: .relaxed).oldValue
                        guard n < order.count else { return }
                        let k = order[n]
                        results[k] = FreezeStats(latencies: &groups[k], slaMillis: slaMillis)
                    }
                }
            }
        }
        return out
    }

    /// Puts the `k`-th smallest of `a[0..<end]` at `a[k]`, smaller ones before it and larger
    /// after (quickselect, median of three; sorts the range if partitions keep coming out
    /// lopsided).
    static func select(_ a: UnsafeMutableBufferPointer<Int>, _ k: Int, upTo end: Int) {
        var lo = 0, hi = end - 1
        var budget = 2 * (Int.bitWidth - end.leadingZeroBitCount) + 8
        while hi > lo {
            if budget == 0 {
                var range = UnsafeMutableBufferPointer(rebasing: a[lo...hi])
                range.sort()
                return
            }
            budget -= 1
            let mid = lo + (hi - lo) / 2
            if a[mid] < a[lo] { a.swapAt(mid, lo) }
            if a[hi] < a[lo] { a.swapAt(hi, lo) }
            if a[hi] < a[mid] { a.swapAt(hi, mid) }
            let pivot = a[mid]
            var i = lo, j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while pivot < a[j] { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            // a[lo...j] <= pivot, a[i...hi] >= pivot, a[j+1..<i] == pivot.
            if k <= j { hi = j } else if k >= i { lo = i } else { return }
        }
    }
}
