import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Follow's checkpoint costs what changed: a base (`Checkpoint`, written whole and atomically)
/// and beside it, at `PATH.journal`, the changes since, appended one record per checkpoint.
///
/// A record holds the hour and minute windows that changed (their counts now), the join's
/// changes in order, the watermark, every source's stats and open calls (small), and the
/// file positions that changed. Loading applies the records to the base in order; a record
/// cut short or failing its CRC (the process died while appending it) and everything after it
/// is ignored, so the state is the one of a write that completed, as with the base's rename.
/// When the journal outgrows the base, the base is written anew and the journal started over.
///
/// Layout: header = magic `AOCPJRNL`, version (u32 LE), and the base it continues: its payload
/// length (u64 LE), CRC-32 (u32 LE) and FNV-1a hash (u64 LE); then records = payload length
/// (u32 LE), CRC-32 of the payload (u32 LE), payload. A journal whose header names another
/// base (a crash between a new base and its new journal) is ignored: that base holds it all.
enum CheckpointJournal {
    static let magic = Array("AOCPJRNL".utf8)
    static let version: UInt32 = 1
    static let headerSize = 32

    static func path(for checkpoint: String) -> String { checkpoint + ".journal" }

    /// The header of a journal continuing the base whose payload is `payload`.
    static func header(forBasePayload payload: ArraySlice<UInt8>) -> [UInt8] {
        var w = ByteWriter()
        w.bytes = magic
        w.fixed32(version)
        w.fixed64(UInt64(payload.count))
        w.fixed32(payload.withUnsafeBufferPointer { Checkpoint.crc(UnsafeRawBufferPointer($0)) })
        w.fixed64(Fingerprint.hash(payload))
        return w.bytes
    }

    /// One record, framed.
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.fixed32(UInt32(payload.count))
        w.fixed32(payload.withUnsafeBufferPointer { Checkpoint.crc(UnsafeRawBufferPointer($0)) })
        return w.bytes + payload
    }

    /// The payloads of the complete records of the journal `bytes`, if it continues the base
    /// whose payload is `basePayload` (else none: that base holds them).
    static func records(_ bytes: [UInt8], basePayload: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        guard bytes.count >= headerSize, Array(bytes[0..<headerSize]) == header(forBasePayload: basePayload) else { return [] }
        var out: [ArraySlice<UInt8>] = []
        var at = headerSize
        while at + 8 <= bytes.count {
            var r = ByteReader(bytes, from: at)
            guard let length = try? r.fixed32(), let crc = try? r.fixed32() else { break }
            let start = at + 8, end = start + Int(length)
            guard end <= bytes.count else { break }
            let payload = bytes[start..<end]
            guard payload.withUnsafeBufferPointer({ Checkpoint.crc(UnsafeRawBufferPointer($0)) }) == crc else { break }
            out.append(payload)
            at = end
        }
        return out
    }
}

/// What the checkpoint on disk (base and journal) holds of the parts a record diffs against.
struct JournalBaseline {
    var hours: [Int: Counters]
    var minutes: [Int: Counters]
    var files: [Checkpoint.FilePosition]
    /// Per source, its call segments (follow: one).
    var calls: [[CallSegment.Parts]]

    init(_ c: Checkpoint) {
        hours = Dictionary(uniqueKeysWithValues: zip(c.aggregate.hourStarts, c.aggregate.hourCounters))
        minutes = c.aggregate.minuteCounters
        files = c.files
        calls = c.calls.map { $0.map(\.parts) }
    }
}

extension CallSegment.Parts {
    static let none = CallSegment.Parts(lateness: 0, firstStart: nil, watermark: Int.min, late: 0, open: [:], head: [:])

    /// These parts as a change from `before`: the numbers and the closed calls kept (follow
    /// keeps none) whole, the open calls as those gone and those new or changed.
    func encode(since before: CallSegment.Parts, into w: inout ByteWriter) {
        w.int(lateness); w.bool(firstStart != nil); w.int(firstStart ?? 0); w.int(watermark); w.int(late)
        let head = self.head.sorted { $0.key < $1.key }
        w.int(head.count)
        for (k, v) in head { w.fixed64(k); w.int(v) }
        let gone = before.open.keys.filter { open[$0] == nil }.sorted()
        w.int(gone.count)
        for k in gone { w.fixed64(k) }
        let changed = open.filter { before.open[$0.key] != $0.value }.sorted { $0.key < $1.key }
        w.int(changed.count)
        for (k, v) in changed { w.fixed64(k); w.int(v) }
    }

    mutating func apply(_ r: inout ByteReader) throws(ByteReader.Truncated) {
        lateness = try r.time()
        let hasFirst = try r.bool(), first = try r.time()
        firstStart = hasFirst ? first : nil
        watermark = try r.time(sentinel: true)
        late = try r.tally()
        guard lateness >= 0 else { throw ByteReader.Truncated() }
        func entry() throws(ByteReader.Truncated) -> (UInt64, Int) {
            let key = try r.fixed64(), value = try r.int()
            guard key != 0, ByteReader.times.contains(CallTable.millis(value)) else { throw ByteReader.Truncated() }
            return (key, value)
        }
        head = [:]
        for _ in 0..<(try r.count()) { let (k, v) = try entry(); head[k] = v }
        for _ in 0..<(try r.count()) { open[try r.fixed64()] = nil }
        for _ in 0..<(try r.count()) { let (k, v) = try entry(); open[k] = v }
    }
}

extension Checkpoint {
    /// The record taking the checkpoint from `baseline` (what is on disk) to this state, the
    /// join's changes since then being `aggregate.joinChanges`.
    func journalRecord(since baseline: JournalBaseline) -> [UInt8] {
        var w = ByteWriter()
        w.int(aggregate.maxMillis)
        // Hours: those gone, then those new or changed, in the aggregate's order (new ones
        // are appended on replay, as they were here).
        let gone = baseline.hours.keys.filter { aggregate.hourIndex[$0] == nil }.sorted()
        w.int(gone.count)
        for start in gone { w.int(start) }
        var changed: [(Int, Counters)] = []
        for (k, start) in aggregate.hourStarts.enumerated() where baseline.hours[start] != aggregate.hourCounters[k] {
            changed.append((start, aggregate.hourCounters[k]))
        }
        w.int(changed.count)
        for (start, c) in changed { w.int(start); c.encode(&w) }
        let minutesGone = baseline.minutes.keys.filter { aggregate.minuteCounters[$0] == nil }.sorted()
        w.int(minutesGone.count)
        for m in minutesGone { w.int(m) }
        let minutesChanged = aggregate.minuteCounters.filter { baseline.minutes[$0.key] != $0.value }.sorted { $0.key < $1.key }
        w.int(minutesChanged.count)
        for (m, c) in minutesChanged { w.int(m); c.encode(&w) }
        let changes = aggregate.joinChanges ?? []
        w.int(changes.count)
        for change in changes {
            switch change {
            case .added(let reports, let freezes):
                w.int(0)
                w.joinEntries(reports)
                w.joinEntries(freezes)
            case .expired(let reportsBefore, let freezesBefore):
                w.int(1)
                w.int(reportsBefore); w.int(freezesBefore)
            }
        }
        for s in sources { s.encode(&w) }
        for (k, list) in calls.enumerated() {
            w.int(list.count)
            for (j, segment) in list.enumerated() {
                let before = k < baseline.calls.count && j < baseline.calls[k].count ? baseline.calls[k][j] : .none
                segment.parts.encode(since: before, into: &w)
            }
        }
        // Files: the positions that changed when the list is the same files in the same
        // order (a line read), else the whole list (a file found, parked, let go).
        if files.count == baseline.files.count {
            let moved = files.indices.filter { files[$0] != baseline.files[$0] }
            w.int(moved.count)
            for k in moved { w.int(k); encode(files[k], into: &w) }
        } else {
            w.int(-1)
            w.int(files.count)
            for f in files { encode(f, into: &w) }
        }
        return w.bytes
    }

    /// Applies the journal's records in order: the calls as parts throughout, made segments
    /// once at the end.
    mutating func apply(journalRecords records: [ArraySlice<UInt8>], version: UInt32) throws(ByteReader.Truncated) {
        guard !records.isEmpty else { return }
        var parts = calls.map { $0.map(\.parts) }
        for record in records { try apply(journalRecord: record, version: version, calls: &parts) }
        calls = parts.map { $0.map(CallSegment.init(parts:)) }
    }

    /// Applies one journal record.
    private mutating func apply(journalRecord payload: ArraySlice<UInt8>, version: UInt32, calls parts: inout [[CallSegment.Parts]]) throws(ByteReader.Truncated) {
        var r = ByteReader(Array(payload))
        aggregate.maxMillis = try r.time(sentinel: true)
        var gone = Set<Int>()
        for _ in 0..<(try r.count()) { gone.insert(try r.time()) }
        if !gone.isEmpty { aggregate.keepHours { !gone.contains($0) } }
        for _ in 0..<(try r.count()) {
            let start = try r.time()
            aggregate.hourCounters[aggregate.index(ofHourStarting: start)] = try Counters.decode(&r)
        }
        aggregate.cachedLow = 1; aggregate.cachedHigh = 0
        for _ in 0..<(try r.count()) { aggregate.minuteCounters[try r.time()] = nil }
        for _ in 0..<(try r.count()) {
            let m = try r.time()
            aggregate.minuteCounters[m] = try Counters.decode(&r)
        }
        for _ in 0..<(try r.count()) {
            switch try r.int() {
            case 0:
                try r.joinEntries { aggregate.join.report($0, $1) }
                try r.joinEntries { aggregate.join.freeze($0, $1) }
            case 1:
                aggregate.join.expire(reportsBefore: try r.time(), freezesBefore: try r.time())
            default:
                throw ByteReader.Truncated()
            }
        }
        for k in sources.indices { sources[k] = try InputStats.decode(&r) }
        for k in parts.indices {
            let n = try r.count()
            if parts[k].count > n { parts[k].removeLast(parts[k].count - n) }
            while parts[k].count < n { parts[k].append(.none) }
            for j in 0..<n { try parts[k][j].apply(&r) }
        }
        let moved = try r.int()
        if moved < 0 {
            files = []
            for _ in 0..<(try r.count()) { files.append(try Self.decodePosition(&r, version: version, sources: sources.count)) }
        } else {
            for _ in 0..<moved {
                let k = try r.int()
                guard files.indices.contains(k) else { throw ByteReader.Truncated() }
                files[k] = try Self.decodePosition(&r, version: version, sources: sources.count)
            }
        }
        guard r.atEnd else { throw ByteReader.Truncated() }
    }
}
