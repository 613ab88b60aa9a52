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
        let translation = shapes.translation(from: other.shapes)
        func translate(_ k: UInt64) -> UInt64? {
            translation[Int(k >> CaseShapes.numberBits) - 1].map { $0 << CaseShapes.numberBits | k & CaseShapes.numberMask }
        }
        for r in reports.moveAppend(from: &other.reports, transform: translate) {
            wideReports.keepEarliest(other.shapes.unpack(r.key), r.millis)
        }
        for r in freezes.moveAppend(from: &other.freezes, transform: translate) {
            wideFreezes.append((other.shapes.unpack(r.key), r.millis))
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

    /// Joins: each frozen event's time and latency, in time order. Consumes the join: the
    /// freezes' own records are rewritten (no second array), and the reports are released
    /// as soon as they have been matched.
    consuming func joined() -> JoinedLatencies {
        var freezes = self.freezes, reports = self.reports
        self.freezes = JoinRecords(); self.reports = JoinRecords()
        var unmatched = 0
        reports.sorted { r in
            freezes.sorted { _ in }
            freezes.withMutableRecords { f in
                // Reports sorted by (id, time): the first record of an id is its earliest.
                var i = 0
                for j in f.indices {
                    let freeze = f[j]
                    while i < r.count && r[i].key < freeze.key { i += 1 }
                    var latency = -1
                    if i < r.count && r[i].key == freeze.key && r[i].millis <= freeze.millis {
                        latency = freeze.millis - r[i].millis
                    } else {
                        unmatched += 1
                    }
                    f[j] = JoinedLatencies.record(millis: freeze.millis, latency: latency)
                }
            }
        }
        reports = JoinRecords()
        for f in wideFreezes {
            var latency = -1
            if let reported = wideReports[f.key], reported <= f.millis {
                latency = f.millis - reported
            } else {
                unmatched += 1
            }
            freezes.append(JoinedLatencies.record(millis: f.millis, latency: latency))
        }
        freezes.sorted { _ in }
        return JoinedLatencies(records: freezes, unmatched: unmatched)
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

/// Frozen events with their latencies, in time order: what reports are made of.
struct JoinedLatencies {
    /// Each record: key = the event time (ms) mapped to an unsigned order, millis = latency
    /// (ms), or -1 when the case had no report at or before it.
    let records: JoinRecords
    /// Frozen events without a report at or before them.
    let unmatched: Int

    init(records: JoinRecords, unmatched: Int) {
        self.records = records
        self.unmatched = unmatched
    }

    @inline(__always)
    static func record(millis: Int, latency: Int) -> JoinRecord {
        JoinRecord(key: UInt64(bitPattern: Int64(millis)) ^ (1 << 63), millis: latency)
    }

    /// Latencies (ms) of the matched frozen events from `start` up to `end` (ms).
    func latencies(from start: Int, to end: Int) -> [Int] {
        let low = Self.record(millis: start, latency: Int.min).key
        let high = Self.record(millis: end, latency: Int.min).key
        return records.withRecords { r in
            // First record at or after `start`.
            var lo = 0, hi = r.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if r[mid].key < low { lo = mid + 1 } else { hi = mid }
            }
            var out: [Int] = []
            var k = lo
            while k < r.count && r[k].key < high {
                if r[k].millis >= 0 { out.append(r[k].millis) }
                k += 1
            }
            return out
        }
    }
}
