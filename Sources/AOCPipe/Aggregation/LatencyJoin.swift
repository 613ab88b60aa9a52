import Dispatch

/// The freeze-latency join: every `reported` and every `frozen` event, joined on the case id
/// when a report is built (a frozen event's latency is its time minus its case's earliest
/// report, FORMATS.md section 3).
///
/// Both sides are append-only logs of 16-byte records (packed case id, time), sorted and
/// merged at join time: no hash table, so no load-factor slack, no rehash copies and no
/// random memory access while counting. Merging two joins is concatenation. Ids that do not
/// pack (`CaseShapes`) go to a small `CaseTable` and list on the side.
struct LatencyJoin: Sendable {
    private var shapes = CaseShapes()
    private var reports = JoinRecords()
    private var freezes = JoinRecords()
    private var wideReports = CaseTable()
    private var wideFreezes: [(key: CaseKey, millis: Int)] = []

    init() {}

    var reportCount: Int { reports.count + wideReports.count }
    var freezeCount: Int { freezes.count + wideFreezes.count }

    @inline(__always)
    mutating func report(_ key: CaseKey, _ millis: Int) {
        if let k = shapes.pack(key) {
            reports.append(JoinRecord(key: k, millis: millis))
        } else {
            wideReports.keepEarliest(key, millis)
        }
    }

    @inline(__always)
    mutating func freeze(_ key: CaseKey, _ millis: Int) {
        if let k = shapes.pack(key) {
            freezes.append(JoinRecord(key: k, millis: millis))
        } else {
            wideFreezes.append((key, millis))
        }
    }

    /// Adds another join's events (its ids re-packed with this join's shapes). Handed its only
    /// copy, the other join is emptied as its records move, not copied and then freed.
    mutating func merge(_ other: consuming LatencyJoin) {
        // Into an empty join (a batch's first file): take the other's state as it is.
        if shapes.shapes.isEmpty && reportCount == 0 && freezeCount == 0 {
            self = other
            return
        }
        let translation = shapes.translation(from: other.shapes)
        if translation.enumerated().allSatisfy({ $1 == UInt64($0 + 1) }) {
            // The same shapes under the same numbers (one writer's ids, seen in the same
            // order): the records move as they are, a block copy.
            reports.moveAppend(from: &other.reports)
            freezes.moveAppend(from: &other.freezes)
        } else {
            func translate(_ k: UInt64) -> UInt64? {
                translation[Int(k >> CaseShapes.numberBits) - 1].map { $0 << CaseShapes.numberBits | k & CaseShapes.numberMask }
            }
            for r in reports.moveAppend(from: &other.reports, transform: translate) {
                wideReports.keepEarliest(other.shapes.unpack(r.key), r.millis)
            }
            for r in freezes.moveAppend(from: &other.freezes, transform: translate) {
                wideFreezes.append((other.shapes.unpack(r.key), r.millis))
            }
        }
        for (key, t) in other.wideReports.entries { report(key, t) }
        for f in other.wideFreezes { freeze(f.key, f.millis) }
    }

    /// Forgets the cases first reported before `reportsBefore` (all their reports: a case is
    /// as old as its earliest report) and the freezes before `freezesBefore` (ms).
    mutating func expire(reportsBefore: Int, freezesBefore: Int) {
        var sortedReports = reports
        reports = JoinRecords()
        var forget = false
        var lastKey: UInt64 = 0
        sortedReports.sorted { _ in }
        sortedReports.removeAll { r in
            // Sorted by (id, time): the first record of an id decides for all of them.
            if r.key != lastKey { lastKey = r.key; forget = r.millis < reportsBefore }
            return forget
        }
        reports = sortedReports
        freezes.removeAll { $0.millis < freezesBefore }
        wideReports = wideReports.filter { $0 >= reportsBefore }
        wideFreezes.removeAll { $0.millis < freezesBefore }
    }

    /// Joins: each frozen event's latency, in the hour window of the report zone it falls in
    /// (keyed by UTC start, as `PartialAggregate` keys hours), and with its time when at or
    /// after `recentFrom` (ms; follow's rolling windows). Consumes the join: the reports are
    /// sorted in place, the freezes looked up a block at a time from the end (on two cores)
    /// and each block's memory given back after it, so the result needs little more memory
    /// than the join held.
    consuming func joined(zone: Zone, recentFrom: Int = .max) -> JoinedLatencies {
        // Both logs sorted by case id at once, one per core, in place.
        let logs = SortingLogs(reports: self.reports, freezes: self.freezes)
        self.freezes = JoinRecords(); self.reports = JoinRecords()
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            if k == 0 { logs.reports.sorted { _ in } } else { logs.freezes.sorted { _ in } }
        }
        var reports = logs.reports, freezes = logs.freezes
        logs.reports = JoinRecords(); logs.freezes = JoinRecords()  // held once again: in place from here

        // Freezes are looked up a block at a time from the end (the block's memory given back
        // after it), each block split between two lanes, one per core.
        let lanes = [LookupLane(zone: zone, hint: reports.count), LookupLane(zone: zone, hint: reports.count)]
        // Room for every lane's share at once: grown block by block, each growth would copy
        // all found so far.
        for lane in lanes { lane.reserve(freezes.count / 2 + 65_536) }
        reports.withRecords { r in
            nonisolated(unsafe) let r = r
            freezes.drainBlocksFromEnd { block in
                nonisolated(unsafe) let block = block
                let half = block.count / 2
                DispatchQueue.concurrentPerform(iterations: 2) { k in
                    lanes[k].lookUp(k == 0 ? block[..<half] : block[half...], in: r, recentFrom: recentFrom)
                }
            }
        }
        reports = JoinRecords()
        let lane = lanes[0]
        for f in wideFreezes {
            if let reported = wideReports[f.key], reported <= f.millis {
                lane.add(f.millis, latency: f.millis - reported, recentFrom: recentFrom)
            } else {
                lane.unmatched += 1
            }
        }
        var out = JoinedLatencies()
        out.group(lanes)
        return out
    }

    /// The first index of `r` (sorted by key) whose key is at least `key`, searched outwards
    /// from `hint`: doubling steps, then halving.
    @inline(__always)
    static func firstIndex(of key: UInt64, in r: UnsafeBufferPointer<JoinRecord>, near hint: Int) -> Int {
        let n = r.count
        var lo: Int, hi: Int
        var h = min(max(hint, 0), n)
        // Freezes and reports both sorted, most answers are a step or two after the last one
        // (or the same): walk those steps, branches a CPU predicts, before any search.
        if h < n && r[h].key < key {
            var steps = 0
            repeat { h += 1; steps += 1 } while h < n && r[h].key < key && steps < 8
            if h == n || r[h].key >= key { return h }
        } else if h == 0 || r[h - 1].key < key {
            return h
        }
        if h < n && r[h].key < key {
            // Answer is after h.
            var step = 1
            lo = h + 1
            hi = h + 1
            while hi < n && r[hi].key < key { lo = hi + 1; hi += step; step *= 2 }
            hi = min(hi, n)
        } else {
            // Answer is at or before h.
            var step = 1
            hi = h
            lo = h
            while lo > 0 && r[lo - 1].key >= key { hi = lo - 1; lo = max(0, lo - step); step *= 2 }
        }
        while lo < hi {
            let mid = (lo + hi) / 2
            if r[mid].key < key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Every report, as ids (for checkpoints; a case may appear more than once).
    func reportEntries() -> [(key: CaseKey, millis: Int)] {
        var out: [(key: CaseKey, millis: Int)] = wideReports.entries.map { ($0.key, $0.value) }
        reports.forEach { out.append((shapes.unpack($0.key), $0.millis)) }
        return out
    }

    /// Every frozen event, as ids (for checkpoints).
    func freezeEntries() -> [(key: CaseKey, millis: Int)] {
        var out = wideFreezes
        freezes.forEach { out.append((shapes.unpack($0.key), $0.millis)) }
        return out
    }
}

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

/// The two logs while two threads sort them, one each.
private final class SortingLogs: @unchecked Sendable {
    var reports: JoinRecords
    var freezes: JoinRecords

    init(reports: JoinRecords, freezes: JoinRecords) {
        self.reports = reports
        self.freezes = freezes
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
        latencies = [Int](unsafeUninitializedCapacity: sum) { buffer, count in
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
