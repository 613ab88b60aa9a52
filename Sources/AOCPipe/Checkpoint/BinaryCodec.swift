/// A compact, explicit binary encoding for checkpoints: LEB128 varints (zigzag for signed),
/// length-prefixed strings. Every field is written and read in a fixed order by hand, so the
/// format is what the code says, versioned by `Checkpoint.version`.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func uvarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func int(_ v: Int) { uvarint(UInt64(bitPattern: Int64((v << 1) ^ (v >> 63)))) }
    mutating func uint64(_ v: UInt64) { uvarint(v) }
    mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }

    mutating func string(_ s: String) {
        let u = Array(s.utf8)
        int(u.count)
        bytes += u
    }

    mutating func fixed64(_ v: UInt64) { fixed(v) }
    mutating func fixed32(_ v: UInt32) { fixed(v) }

    /// Little-endian, all of `T`'s width.
    mutating func fixed<T: FixedWidthInteger & UnsignedInteger>(_ v: T) {
        for k in 0..<(T.bitWidth / 8) { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * k))) }
    }
}

struct ByteReader {
    struct Truncated: Error {}

    let bytes: [UInt8]
    var i = 0

    init(_ bytes: [UInt8], from: Int = 0) {
        self.bytes = bytes
        i = from
    }

    var atEnd: Bool { i == bytes.count }

    mutating func uvarint() throws(Truncated) -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard i < bytes.count, shift < 64 else { throw Truncated() }
            let b = bytes[i]
            i += 1
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }

    mutating func int() throws(Truncated) -> Int {
        let u = try uvarint()
        return Int(Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1))))
    }

    /// Times (ms or s) a checkpoint may hold: within 35,000 years of 1970 either way, so that
    /// no arithmetic on a damaged or hostile one can overflow.
    static let times = -(1 << 50)...(1 << 50)

    /// A time within `times`, or `Int.min` where `sentinel` allows it (nothing seen yet).
    mutating func time(sentinel: Bool = false) throws(Truncated) -> Int {
        let v = try int()
        guard Self.times.contains(v) || (sentinel && v == Int.min) else { throw Truncated() }
        return v
    }

    /// A tally of things (lines, bytes, events): 0 to 2^48.
    mutating func tally() throws(Truncated) -> Int {
        let v = try int()
        guard v >= 0, v <= 1 << 48 else { throw Truncated() }
        return v
    }

    /// A window's count: within ±2^48 (a call moved between windows is taken from one).
    mutating func windowCount() throws(Truncated) -> Int {
        let v = try int()
        guard v >= -(1 << 48), v <= 1 << 48 else { throw Truncated() }
        return v
    }

    /// A count of items to follow, bounded by the bytes left (each item takes at least one).
    mutating func count() throws(Truncated) -> Int {
        let n = try int()
        guard n >= 0, n <= bytes.count - i else { throw Truncated() }
        return n
    }

    mutating func uint64() throws(Truncated) -> UInt64 { try uvarint() }

    mutating func bool() throws(Truncated) -> Bool {
        guard i < bytes.count else { throw Truncated() }
        i += 1
        return bytes[i - 1] != 0
    }

    mutating func string() throws(Truncated) -> String {
        let n = try count()
        defer { i += n }
        return String(decoding: bytes[i..<(i + n)], as: UTF8.self)
    }

    mutating func bytes(_ n: Int) throws(Truncated) -> [UInt8] {
        guard n >= 0, i + n <= bytes.count else { throw Truncated() }
        defer { i += n }
        return Array(bytes[i..<(i + n)])
    }

    mutating func fixed64() throws(Truncated) -> UInt64 { try fixed(UInt64.self) }
    mutating func fixed32() throws(Truncated) -> UInt32 { try fixed(UInt32.self) }

    /// A little-endian unsigned integer of `T`'s width.
    mutating func fixed<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) throws(Truncated) -> T {
        let width = T.bitWidth / 8
        guard i + width <= bytes.count else { throw Truncated() }
        var v: T = 0
        for k in 0..<width { v |= T(bytes[i + k]) << (8 * k) }
        i += width
        return v
    }
}

// MARK: - State types

extension CaseKey {
    func encode(_ w: inout ByteWriter) {
        w.fixed64(w0); w.fixed64(w1); w.fixed64(w2); w.fixed64(w3)
        w.uvarint(UInt64(length))
    }

    static func decode(_ r: inout ByteReader) throws(ByteReader.Truncated) -> CaseKey {
        var k = CaseKey()
        k.w0 = try r.fixed64(); k.w1 = try r.fixed64(); k.w2 = try r.fixed64(); k.w3 = try r.fixed64()
        k.length = UInt32(truncatingIfNeeded: try r.uvarint())
        return k
    }
}

extension ByteWriter {
    /// Events of the latency join (case id, time), as the checkpoint and its journal hold them.
    mutating func joinEntries(_ entries: [(key: CaseKey, millis: Int)]) {
        int(entries.count)
        for e in entries { e.key.encode(&self); int(e.millis) }
    }
}

extension ByteReader {
    /// Events of the latency join written by `ByteWriter.joinEntries`, each handed to `add`.
    mutating func joinEntries(_ add: (CaseKey, Int) -> Void) throws(Truncated) {
        for _ in 0..<(try count()) {
            let key = try CaseKey.decode(&self)
            guard !key.isEmpty else { throw Truncated() }
            add(key, try time())
        }
    }
}

extension Counters {
    /// Every metric of the list in its order (the derived `calls_unanswered` too: the format
    /// keeps seven numbers, and a reader checks that they agree).
    func encode(_ w: inout ByteWriter) {
        for metric in Metric.allCases { w.int(self[metric]) }
    }

    static func decode(_ r: inout ByteReader) throws(ByteReader.Truncated) -> Counters {
        var c = Counters()
        var unanswered = 0
        for metric in Metric.allCases {
            let value = try r.windowCount()
            if metric == .callsUnanswered { unanswered = value } else { c.set(metric, value) }
        }
        guard c.callsUnanswered == unanswered else { throw ByteReader.Truncated() }
        return c
    }
}

extension PartialAggregate {
    func encode(_ w: inout ByteWriter) {
        w.bool(tracksMinutes)
        w.int(hourStarts.count)
        for (start, c) in zip(hourStarts, hourCounters) { w.int(start); c.encode(&w) }
        // Sorted, so the same state always encodes to the same bytes.
        w.joinEntries(join.reportEntries().sorted { ($0.millis, $0.key) < ($1.millis, $1.key) })
        w.joinEntries(join.freezeEntries().sorted { ($0.millis, $0.key) < ($1.millis, $1.key) })
        w.int(maxMillis)
        var all = minuteCounters
        if openMinute != Int.min { all[openMinute, default: Counters()] += openMinuteCounts }
        let minutes = all.sorted { $0.key < $1.key }
        w.int(minutes.count)
        for (m, c) in minutes { w.int(m); c.encode(&w) }
    }

    static func decode(_ r: inout ByteReader, zone: Zone) throws(ByteReader.Truncated) -> PartialAggregate {
        var a = PartialAggregate(reportZone: zone, tracksMinutes: try r.bool())
        for _ in 0..<(try r.count()) {
            let start = try r.time()
            guard a.hourIndex[start] == nil else { throw ByteReader.Truncated() }
            a.hourCounters[a.index(ofHourStarting: start)] = try Counters.decode(&r)
        }
        try r.joinEntries { a.join.report($0, $1) }
        try r.joinEntries { a.join.freeze($0, $1) }
        a.maxMillis = try r.time(sentinel: true)
        for _ in 0..<(try r.count()) {
            let m = try r.time()
            a.minuteCounters[m] = try Counters.decode(&r)
        }
        return a
    }
}

extension InputStats {
    func encode(_ w: inout ByteWriter) {
        for v in [files, bytesRead, bytesDecoded, lines, records, callLines, keylessCallLines, skipped, lateDropped, unmatched, truncations] { w.int(v) }
        let reasons = malformedByReason.sorted { $0.key < $1.key }
        w.int(reasons.count)
        for (reason, n) in reasons { w.string(reason.rawValue); w.int(n) }
        w.int(damage.count)
        for d in damage {
            w.string(d.path); w.string(d.kind.rawValue); w.int(d.offset)
            w.int(d.resumedAt ?? -1)
        }
    }

    static func decode(_ r: inout ByteReader) throws(ByteReader.Truncated) -> InputStats {
        var s = InputStats()
        s.files = try r.tally(); s.bytesRead = try r.tally(); s.bytesDecoded = try r.tally(); s.lines = try r.tally()
        s.records = try r.tally(); s.callLines = try r.tally(); s.keylessCallLines = try r.tally(); s.skipped = try r.tally()
        s.lateDropped = try r.tally(); s.unmatched = try r.tally()
        s.truncations = try r.tally()
        for _ in 0..<(try r.count()) {
            let name = try r.string()
            let n = try r.tally()
            guard let reason = MalformedReason(rawValue: name) else { throw ByteReader.Truncated() }
            s.malformedByReason[reason] = n
        }
        for _ in 0..<(try r.count()) {
            let path = try r.string()
            guard let kind = DecodeDamage.Kind(rawValue: try r.string()) else { throw ByteReader.Truncated() }
            let offset = try r.tally()
            let resumed = try r.int()
            guard resumed >= -1, resumed <= 1 << 48 else { throw ByteReader.Truncated() }
            s.damage.append(DecodeDamage(path: path, kind: kind, offset: offset, resumedAt: resumed < 0 ? nil : resumed))
        }
        return s
    }
}
