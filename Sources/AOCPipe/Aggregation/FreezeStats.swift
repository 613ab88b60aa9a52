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
    public init(latencies: inout [Int], slaMillis: Int) {
        self = latencies.withUnsafeBufferPointer { FreezeStats(of: $0, slaMillis: slaMillis) }
    }

    /// Summarises latencies in milliseconds, leaving them as they are (so windows that share
    /// latencies, an hour and its day, are summarised at once). The three ranks are found by
    /// selection (linear time), not by sorting.
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
    /// are. Up to 4,096 values: copied and selected. More: a histogram of the top 12 bits
    /// that vary says which bucket holds each rank; only those buckets are copied out and
    /// looked into (the same way when still large). Each level is a pass or two over the
    /// values, with no data-dependent branch but the bucket test.
    static func values(atRanks ranks: [Int], of values: UnsafeBufferPointer<Int>) -> [Int] {
        let n = values.count
        if n <= 4096 {
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { copy in
                _ = copy.initialize(fromContentsOf: values)
                // Largest rank first: each selection leaves the smaller values in front of it,
                // where the next one looks.
                var out = ranks, end = n
                for j in ranks.indices.reversed() {
                    select(copy, ranks[j], upTo: end)
                    out[j] = copy[ranks[j]]
                    end = ranks[j] + 1
                }
                return out
            }
        }
        var low = Int.max, high = Int.min
        for v in values {
            if v < low { low = v }
            if v > high { high = v }
        }
        if low == high { return ranks.map { _ in low } }
        let span = UInt(bitPattern: high &- low)
        let shift = max(0, UInt.bitWidth - span.leadingZeroBitCount - 12)
        let buckets = Int(span >> shift) + 1
        @inline(__always) func bucket(_ v: Int) -> Int { Int(UInt(bitPattern: v &- low) >> shift) }
        var counts = [Int](repeating: 0, count: buckets)
        counts.withUnsafeMutableBufferPointer { c in for v in values { c[bucket(v)] += 1 } }

        // The bucket of each rank, and the rank within it.
        var wanted: [(bucket: Int, members: [Int], ranks: [(index: Int, rank: Int)])] = []
        var which = [Int8](repeating: -1, count: buckets)
        var j = 0, before = 0
        for b in 0..<buckets where j < ranks.count {
            var inside: [(index: Int, rank: Int)] = []
            while j < ranks.count && ranks[j] < before + counts[b] {
                inside.append((j, ranks[j] - before))
                j += 1
            }
            if !inside.isEmpty {
                which[b] = Int8(wanted.count)
                wanted.append((b, [], inside))
                wanted[wanted.count - 1].members.reserveCapacity(counts[b])
            }
            before += counts[b]
        }
        for v in values {
            let w = which[bucket(v)]
            if w >= 0 { wanted[Int(w)].members.append(v) }
        }
        var out = ranks
        for w in wanted {
            let found = w.members.withUnsafeBufferPointer { Self.values(atRanks: w.ranks.map(\.rank), of: $0) }
            for (k, r) in w.ranks.enumerated() { out[r.index] = found[k] }
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
