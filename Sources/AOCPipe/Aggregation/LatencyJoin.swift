import Dispatch
import Foundation

/// The freeze-latency join: every `reported` and every `frozen` event, joined on the case id
/// when a report is built (a frozen event's latency is its time minus its case's earliest
/// report; docs/FORMATS.md, "Metrics").
///
/// Both sides are append-only logs of 16-byte records (packed case id, time), sorted and
/// merged at join time: no hash table, so no load-factor slack, no rehash copies and no
/// random memory access while counting. Merging two joins is concatenation. Ids that do not
/// pack (`CaseShapes`) go to a small `CaseTable` and list on the side.
struct LatencyJoin: Sendable {
    /// Threads the lookups are shared between: one per core.
    static let lookupLanes = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 64))
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
        sortedReports.sortInPlace()
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
            if k == 0 { logs.reports.sortInPlace() } else { logs.freezes.sortInPlace() }
        }
        var reports = logs.reports, freezes = logs.freezes
        logs.reports = JoinRecords(); logs.freezes = JoinRecords()  // held once again: in place from here

        // Freezes are looked up a block at a time from the end (the block's memory given back
        // after it), each block split between the lanes, one per core.
        let lanes = (0..<Self.lookupLanes).map { _ in LookupLane(zone: zone, hint: reports.count) }
        // Room for every lane's share at once: grown block by block, each growth would copy
        // all found so far.
        for lane in lanes { lane.reserve(freezes.count / lanes.count + 65_536) }
        reports.withRecords { r in
            nonisolated(unsafe) let r = r
            freezes.drainBlocksFromEnd { block in
                nonisolated(unsafe) let block = block
                let share = (block.count + lanes.count - 1) / lanes.count
                DispatchQueue.concurrentPerform(iterations: lanes.count) { k in
                    let from = min(k * share, block.count), to = min(from + share, block.count)
                    lanes[k].lookUp(block[(block.startIndex + from)..<(block.startIndex + to)], in: r, recentFrom: recentFrom)
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

/// The two logs while two threads sort them, one each.
private final class SortingLogs: @unchecked Sendable {
    var reports: JoinRecords
    var freezes: JoinRecords

    init(reports: JoinRecords, freezes: JoinRecords) {
        self.reports = reports
        self.freezes = freezes
    }
}
