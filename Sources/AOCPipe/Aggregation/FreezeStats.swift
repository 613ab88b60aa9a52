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

    /// Summarises latencies in milliseconds.
    public init(latencies: [Int], slaMillis: Int) {
        self = latencies.withUnsafeBufferPointer { FreezeStats(of: $0, slaMillis: slaMillis) }
    }

    /// Summarises latencies in milliseconds, leaving them as they are (so windows that share
    /// latencies, an hour and its day, are summarised at once). The three ranks are found
    /// without sorting (`values(atRanks:of:)`, linear time).
    init(of latencies: UnsafeBufferPointer<Int>, slaMillis: Int) {
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
        let values = Self.values(atRanks: [rank(0.50), rank(0.90), rank(0.99)], of: latencies)
        p50Minutes = Double(values[0]) / 60_000
        p90Minutes = Double(values[1]) / 60_000
        p99Minutes = Double(values[2]) / 60_000
    }

    /// The summaries of windows whose latencies are `groups` of `latencies`, worked out on
    /// every core, largest first.
    static func summaries(of groups: [Range<Int>], in latencies: [Int], slaMillis: Int) -> [FreezeStats] {
        var out = [FreezeStats](repeating: FreezeStats(), count: groups.count)
        let order = groups.indices.sorted { groups[$0].count > groups[$1].count }
        let next = Atomic<Int>(0)
        latencies.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { o in
                // The latencies are only read; each result is written by one thread only (the
                // counter hands them out).
                nonisolated(unsafe) let all = a, results = o
                DispatchQueue.concurrentPerform(iterations: min(groups.count, 4)) { _ in
                    while true {
                        let n = next.add(1, ordering: .relaxed).oldValue
                        guard n < order.count else { return }
                        let k = order[n]
                        results[k] = FreezeStats(of: UnsafeBufferPointer(rebasing: all[groups[k]]), slaMillis: slaMillis)
                    }
                }
            }
        }
        return out
    }

    /// The values at sorted positions `ranks` (ascending) of `values`, which are left as they
    /// are. A histogram of the top bits that vary (about one bucket per two values, at most
    /// 4,096) says which bucket holds each rank; only those buckets' values are copied out
    /// and looked into the same way, down to a few values, which are sorted. Passes that
    /// count and copy, where quickselect's partitioning mispredicted a branch on every other
    /// value (it was a third of the report's time, over ~1,500 hour windows).
    static func values(atRanks ranks: [Int], of values: UnsafeBufferPointer<Int>) -> [Int] {
        let n = values.count
        if n <= 16 {
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: max(n, 1)) { copy in
                _ = copy.initialize(fromContentsOf: values)
                var sorted = UnsafeMutableBufferPointer(rebasing: copy[0..<n])
                sorted.sort()
                return ranks.map { sorted[$0] }
            }
        }
        var low = Int.max, high = Int.min
        for v in values {
            low = min(low, v)
            high = max(high, v)
        }
        if low == high { return ranks.map { _ in low } }
        let bucketBits = min(max(Int.bitWidth - n.leadingZeroBitCount - 1, 4), 12)
        let span = UInt(bitPattern: high &- low)
        let shift = max(0, UInt.bitWidth - span.leadingZeroBitCount - bucketBits)
        let buckets = Int(span >> shift) + 1
        @inline(__always) func bucket(_ v: Int) -> Int { Int(UInt(bitPattern: v &- low) >> shift) }

        // On the stack for the many small windows (hours); on the heap past a few KB, so a
        // deep recursion over oddly spread values stays within any thread's stack.
        func withScratch<R>(_ count: Int, _ body: (UnsafeMutableBufferPointer<Int>) -> R) -> R {
            if count <= 1024 { return withUnsafeTemporaryAllocation(of: Int.self, capacity: count, body) }
            var heap = [Int](repeating: 0, count: count)
            return heap.withUnsafeMutableBufferPointer { body($0) }
        }
        return withScratch(2 * buckets) { scratch in
            // counts[b]; then, for the buckets that hold a rank, where their values go in `picked`.
            let counts = scratch.baseAddress!, slot = scratch.baseAddress! + buckets
            counts.initialize(repeating: 0, count: buckets)
            slot.initialize(repeating: -1, count: buckets)
            for v in values { counts[bucket(v)] += 1 }
            // The bucket of each rank, and the rank within it.
            var wanted: [(start: Int, count: Int, ranks: [(index: Int, rank: Int)])] = []
            var j = 0, before = 0, picked = 0
            for b in 0..<buckets where j < ranks.count {
                var inside: [(index: Int, rank: Int)] = []
                while j < ranks.count && ranks[j] < before + counts[b] {
                    inside.append((j, ranks[j] - before))
                    j += 1
                }
                if !inside.isEmpty {
                    slot[b] = picked
                    wanted.append((picked, counts[b], inside))
                    picked += counts[b]
                }
                before += counts[b]
            }
            var out = ranks
            let copy = { (into: UnsafeMutableBufferPointer<Int>) in
                for v in values {
                    let b = bucket(v)
                    let at = slot[b]
                    if at >= 0 {
                        into[at] = v
                        slot[b] = at + 1
                    }
                }
                for w in wanted {
                    let found = Self.values(atRanks: w.ranks.map(\.rank), of: UnsafeBufferPointer(rebasing: into[w.start..<(w.start + w.count)]))
                    for (k, r) in w.ranks.enumerated() { out[r.index] = found[k] }
                }
            }
            withScratch(picked) { copy($0) }
            return out
        }
    }
}
