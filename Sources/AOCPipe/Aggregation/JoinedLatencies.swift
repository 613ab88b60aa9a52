import Dispatch

/// What one thread's share of the lookups found: each matched freeze's latency and hour
/// window (a slot number of the lane's own, in order of first sight).
final class LookupLane: @unchecked Sendable {
    var latencies: [Int] = []
    var slots: [UInt32] = []
    var bucket: HourBucketer
    var recent: [(millis: Int, latency: Int)] = []
    var unmatched = 0
    /// Where the last lookup ended: freezes come in case-id order too, so each lookup gallops
    /// a short way from there.
    var hint: Int

    init(zone: Zone, hint: Int) {
        bucket = HourBucketer(zone: zone)
        self.hint = hint
    }

    func lookUp(_ freezes: UnsafeBufferPointer<JoinRecord>.SubSequence, in r: UnsafeBufferPointer<JoinRecord>, recentFrom: Int) {
        // Worked on in locals (a class's stored properties are checked for exclusive access
        // at every touch), put back at the end.
        var latencies = self.latencies, slots = self.slots, bucket = self.bucket, recent = self.recent
        var hint = self.hint, unmatched = self.unmatched
        self.latencies = []; self.slots = []; self.recent = []
        for f in freezes {
            hint = LatencyJoin.firstIndex(of: f.key, in: r, near: hint)
            if hint < r.count && r[hint].key == f.key && r[hint].millis <= f.millis {
                let latency = f.millis - r[hint].millis
                latencies.append(latency)
                slots.append(bucket.slot(of: f.millis))
                if f.millis >= recentFrom { recent.append((f.millis, latency)) }
            } else {
                unmatched += 1
            }
        }
        self.latencies = latencies; self.slots = slots; self.bucket = bucket; self.recent = recent
        self.hint = hint; self.unmatched = unmatched
    }

    func reserve(_ count: Int) {
        latencies.reserveCapacity(count)
        slots.reserveCapacity(count)
    }

    func add(_ millis: Int, latency: Int, recentFrom: Int) {
        latencies.append(latency)
        slots.append(bucket.slot(of: millis))
        if millis >= recentFrom { recent.append((millis, latency)) }
    }
}

/// Frozen events' latencies (ms), by hour window, and by time for the most recent ones.
struct JoinedLatencies {
    /// Every matched frozen event's latency, grouped by hour window, the hours in time order:
    /// a day's or a run's latencies are one stretch of it.
    var latencies: [Int] = []
    /// UTC start of each hour window that has latencies (ascending), and its stretch of `latencies`.
    var hourStarts: [Int] = []
    var hourBounds: [Int] = [0]
    /// (time, latency) of the frozen events at or after the join's `recentFrom`.
    var recent: [(millis: Int, latency: Int)] = []
    /// Frozen events without a report at or before them.
    var unmatched = 0

    /// Where the latencies of the frozen events from `start` up to `end` (UTC seconds, hour
    /// boundaries) are in `latencies`.
    func stretch(from start: Int, to end: Int) -> Range<Int> {
        hourBounds[firstHour(from: start)]..<hourBounds[firstHour(from: end)]
    }

    /// Where the latencies of the hour window starting at `start` are (empty when none).
    func hour(startingAt start: Int) -> Range<Int> {
        let k = firstHour(from: start)
        guard k < hourStarts.count && hourStarts[k] == start else { return 0..<0 }
        return hourBounds[k]..<hourBounds[k + 1]
    }

    /// The index of the first hour starting at or after `t`.
    private func firstHour(from t: Int) -> Int {
        var lo = 0, hi = hourStarts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if hourStarts[mid] < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The latencies by hour window (tests).
    var hours: [Int: [Int]] {
        Dictionary(uniqueKeysWithValues: hourStarts.indices.map { (hourStarts[$0], Array(latencies[hourBounds[$0]..<hourBounds[$0 + 1]])) })
    }

    /// Latencies of the recent frozen events from `start` up to `end` (ms).
    func latencies(from start: Int, to end: Int) -> [Int] {
        recent.lazy.filter { $0.millis >= start && $0.millis < end }.map(\.latency)
    }

    /// Lays the lanes' latencies out hour by hour (a counting sort on the hour slots, the
    /// hours in time order): two passes, no comparison, each lane's on a core of its own.
    mutating func group(_ lanes: [LookupLane]) {
        // One numbering of the hours for all lanes: the first lane's, extended.
        var starts = lanes[0].bucket.starts
        var slotOfStart = lanes[0].bucket.slotOfStart
        let renumber: [[Int]] = lanes.map { lane in
            lane.bucket.starts.map { start in
                if let known = slotOfStart[start] { return Int(known) }
                slotOfStart[start] = UInt32(starts.count)
                starts.append(start)
                return starts.count - 1
            }
        }
        let hours = starts.count
        // Each lane counts its latencies per hour.
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: lanes.count * hours)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0)
        nonisolated(unsafe) let perLane = counts
        DispatchQueue.concurrentPerform(iterations: lanes.count) { l in
            let row = perLane.baseAddress! + l * hours
            renumber[l].withUnsafeBufferPointer { slotOf in
                for s in lanes[l].slots { row[slotOf[Int(s)]] += 1 }
            }
        }
        // Hours in time order; within an hour, lane by lane. `counts` becomes where each
        // lane's next latency of each hour goes.
        let order = starts.indices.sorted { starts[$0] < starts[$1] }
        hourStarts = order.map { starts[$0] }
        hourBounds = [0]
        hourBounds.reserveCapacity(hours + 1)
        var sum = 0
        for k in order {
            for l in lanes.indices {
                let n = counts[l * hours + k]
                counts[l * hours + k] = sum
                sum += n
            }
            hourBounds.append(sum)
        }
        // None at all: `[]`. An uninitialized array of capacity 0 is the runtime's shared empty
        // storage, and setting its count writes to that one global from every thread doing so
        // (the thread sanitizer saw two joins of empty windows at once).
        latencies = sum == 0 ? [] : [Int](unsafeUninitializedCapacity: sum) { buffer, count in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: lanes.count) { l in
                let next = perLane.baseAddress! + l * hours
                let lane = lanes[l]
                renumber[l].withUnsafeBufferPointer { slotOf in
                    lane.latencies.withUnsafeBufferPointer { values in
                        lane.slots.withUnsafeBufferPointer { slots in
                            for i in 0..<values.count {
                                let k = slotOf[Int(slots[i])]
                                out[next[k]] = values[i]
                                next[k] += 1
                            }
                        }
                    }
                }
                lane.latencies = []
                lane.slots = []
            }
            count = sum
        }
        recent = lanes.flatMap(\.recent)
        unmatched = lanes.reduce(0) { $0 + $1.unmatched }
    }
}

/// Numbers the hour windows that frozen events fall in; consecutive events mostly share an
/// hour, so the window is worked out once per run of them.
struct HourBucketer {
    var cursor: Zone.Cursor
    var low = 1, high = 0, slot: UInt32 = 0
    /// UTC start of each slot's hour.
    var starts: [Int] = []
    var slotOfStart: [Int: UInt32] = [:]

    init(zone: Zone) { cursor = Zone.Cursor(zone: zone) }

    @inline(__always)
    mutating func slot(of millis: Int) -> UInt32 {
        let second = CivilTime.floorDiv(millis, 1000)
        if second < low || second >= high {
            let hour = cursor.hour(containing: second)
            (low, high) = (hour.low, hour.high)
            if let known = slotOfStart[hour.start] {
                slot = known
            } else {
                slot = UInt32(starts.count)
                slotOfStart[hour.start] = slot
                starts.append(hour.start)
            }
        }
        return slot
    }
}
