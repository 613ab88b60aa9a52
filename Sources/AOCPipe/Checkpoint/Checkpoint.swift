import CZlib
import Foundation

/// Everything needed to go on after a stop or a crash, in one file: the aggregate state and
/// how far each file was read. Written atomically (temp file, fsync, rename, fsync of the
/// directory), so a reader finds the previous checkpoint or the new one, never a mix.
///
/// Layout: magic `AOCPCKPT`, version (u32 LE), payload length (u64 LE), CRC-32 of the payload
/// (u32 LE), payload (`ByteWriter` encoding). A file that fails any check is refused whole.
public struct Checkpoint: Sendable {
    /// 4: a gzip file's resume point may be an access point inside a member (`AccessPoint`).
    /// 3: fingerprints as hashes with lengths. 2 held each file's first 1 KiB itself (log lines
    /// with caller numbers). Both are still read, and written anew as 4.
    public static let version: UInt32 = 4
    static let magic = Array("AOCPCKPT".utf8)

    /// How far one file was read.
    public struct FilePosition: Sendable, Equatable {
        public var source: Int
        /// The path it was last seen at (messages only: identity is the fingerprint).
        public var path: String
        public var fingerprint: Fingerprint
        /// Decoded bytes absorbed: the end of the last complete line counted.
        public var decodedOffset: Int
        /// The file was read to its end and will not be read again.
        public var complete: Bool
        /// Follow: the inode it was read from (a hint; identity is the fingerprint), and where
        /// decoding can restart, valid for that inode's encoding only.
        public var device: UInt64 = 0
        public var inode: UInt64 = 0
        public var resume: ResumePoint = .start
        public var resumeIsGzip = false

        /// Batch: whether `file` still holds just what was read of it (else it grew, and is
        /// read on from `decodedOffset`). A plain file by its size; a gzip file by its size
        /// against its resume point, which a clean end puts at the end of the file.
        func isUnchanged(_ file: InputFile) -> Bool {
            let size = file.size
            if resumeIsGzip { return resume.fileOffset >= size && resume.decodedOffset == decodedOffset }
            return size <= decodedOffset && !((try? Decoding.isGzip(file)) ?? false)
        }

        public init(source: Int, path: String, fingerprint: Fingerprint, decodedOffset: Int, complete: Bool) {
            self.source = source
            self.path = path
            self.fingerprint = fingerprint
            self.decodedOffset = decodedOffset
            self.complete = complete
        }
    }

    public var pipeline: String
    /// Digest of what gives counts their meaning (report zone, sources' formats, zones and
    /// hotline numbers): a checkpoint from another pipeline is refused.
    public var configDigest: UInt64
    public var aggregate: PartialAggregate
    /// Per source, in pipeline order.
    public var sources: [InputStats]
    /// Per source, the calls that can still change (open, and closed near a segment's start),
    /// by key hash: no caller number or id. Follow keeps one segment per source, batch one per
    /// file read, joined in stream order for the report (`CallSegment.joined`).
    var calls: [[CallSegment]]
    public var files: [FilePosition]

    /// `tracksMinutes`: follow's state keeps per-minute counts for its rolling windows.
    public init(config: PipelineConfig, tracksMinutes: Bool = false) {
        pipeline = config.name
        configDigest = Self.digest(of: config)
        aggregate = PartialAggregate(reportZone: config.zone, tracksMinutes: tracksMinutes)
        sources = Array(repeating: InputStats(), count: config.sources.count)
        calls = Array(repeating: [], count: config.sources.count)
        files = []
    }

    static func digest(of config: PipelineConfig) -> UInt64 {
        var text = "zone=\(config.zone.identifier);"
        for s in config.sources { text += "source=\(s.name),\(s.format.rawValue),\(s.zone.identifier),\(s.calls.digestText);" }
        return Fingerprint.hash(text.utf8)
    }

    public func encoded() -> [UInt8] { encoded(fingerprintsAsBytes: false) }

    func encoded(fingerprintsAsBytes: Bool) -> [UInt8] {
        var w = ByteWriter()
        w.string(pipeline)
        w.fixed64(configDigest)
        aggregate.encode(&w)
        w.int(sources.count)
        for s in sources { s.encode(&w) }
        for list in calls {
            w.int(list.count)
            for segment in list { segment.encode(&w) }
        }
        w.int(files.count)
        for f in files {
            if fingerprintsAsBytes {
                w.int(f.source); w.string(f.path)
                let bytes = f.fingerprint.bytes ?? []
                w.int(bytes.count); w.bytes += bytes
                w.int(f.decodedOffset); w.bool(f.complete)
                w.uint64(f.device); w.uint64(f.inode); w.int(f.resume.fileOffset); w.int(f.resume.decodedOffset)
                w.bool(f.resumeIsGzip)
            } else {
                encode(f, into: &w)
            }
        }
        let payload = w.bytes
        var out = ByteWriter()
        out.bytes = Self.magic
        out.fixed32(fingerprintsAsBytes ? 2 : Self.version)
        out.fixed64(UInt64(payload.count))
        out.fixed32(Self.crc(payload))
        return out.bytes + payload
    }

    static func crc(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { crc($0) }
    }

    static func crc(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(crc32(0, bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
    }

    /// One file's position (format 4).
    func encode(_ f: FilePosition, into w: inout ByteWriter) {
        w.int(f.source); w.string(f.path)
        f.fingerprint.encode(&w)
        w.int(f.decodedOffset); w.bool(f.complete)
        w.uint64(f.device); w.uint64(f.inode); w.int(f.resume.fileOffset); w.int(f.resume.decodedOffset)
        w.bool(f.resumeIsGzip)
        w.bool(f.resume.access != nil)
        if let a = f.resume.access {
            w.int(a.memberStart); w.int(a.memberDecodedStart); w.int(a.bits); w.fixed32(a.crc)
            w.int(a.window.count); w.bytes += a.window
        }
    }

    static func decodePosition(_ r: inout ByteReader, version: UInt32, sources n: Int) throws(ByteReader.Truncated) -> FilePosition {
        let source = try r.int()
        let filePath = try r.string()
        let fp = version == 2 ? Fingerprint(bytes: try r.bytes(try r.count())) : try Fingerprint.decode(&r)
        let offset = try r.tally()
        let complete = try r.bool()
        guard source >= 0, source < n else { throw ByteReader.Truncated() }
        var f = FilePosition(source: source, path: filePath, fingerprint: fp, decodedOffset: offset, complete: complete)
        f.device = try r.uint64()
        f.inode = try r.uint64()
        f.resume = ResumePoint(fileOffset: try r.tally(), decodedOffset: try r.tally())
        f.resumeIsGzip = try r.bool()
        if version >= 4, try r.bool() {
            let a = AccessPoint(memberStart: try r.tally(), memberDecodedStart: try r.tally(), bits: try r.int(),
                                crc: try r.fixed32(), window: try r.bytes(try r.count()))
            // A point that cannot be one: refused (decoding from it would be garbage).
            guard f.resumeIsGzip, (0...7).contains(a.bits), a.window.count <= AccessPoint.windowSize,
                  a.memberStart < f.resume.fileOffset, a.memberDecodedStart <= f.resume.decodedOffset,
                  f.resume.decodedOffset - a.memberDecodedStart >= a.window.count else { throw ByteReader.Truncated() }
            f.resume.access = a
        }
        return f
    }

    /// Loads the checkpoint at `path` for `config`, with the records of its journal applied
    /// (`CheckpointJournal`): nil if there is none; an error if it is damaged, from a newer
    /// aocpipe, or from another pipeline.
    public static func load(from path: String, for config: PipelineConfig) throws(CheckpointError) -> Checkpoint? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(path: path, problem: "cannot be read: \(readFailure(path))")
        }
        let bytes = Array(data)
        var c = try decode(bytes, path: path, config: config)
        let journal = CheckpointJournal.path(for: path)
        guard let records = FileManager.default.contents(atPath: journal) else { return c }
        let version = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian }
        do {
            try c.apply(journalRecords: CheckpointJournal.records(Array(records), basePayload: bytes[24...]), version: version)
        } catch {
            throw CheckpointError(path: journal, problem: "is damaged (a record with a valid checksum does not decode)")
        }
        return c
    }

    /// A checkpoint in format 2 (whose fingerprints were the bytes themselves), for tests.
    func encodedAsVersion2() -> [UInt8] { encoded(fingerprintsAsBytes: true) }

    static func decode(_ bytes: [UInt8], path: String, config: PipelineConfig) throws(CheckpointError) -> Checkpoint {
        func refuse(_ problem: String) -> CheckpointError { CheckpointError(path: path, problem: problem) }
        guard bytes.count >= 8, Array(bytes[0..<8]) == magic else { throw refuse("is not an aocpipe checkpoint") }
        guard bytes.count >= 24 else { throw refuse("is damaged (short header)") }
        var header = ByteReader(bytes, from: 8)
        guard let version = try? header.fixed32(), let length = try? header.fixed64(), let crc = try? header.fixed32() else {
            throw refuse("is damaged (short header)")
        }
        guard version <= Self.version else {
            throw refuse("was written by a newer aocpipe (format \(version); this one reads up to \(Self.version))")
        }
        guard version >= 2 else {
            throw refuse(version == 1
                ? "was written by an older aocpipe (format 1, which counted CDR lines as calls); move it away to count again"
                : "has an unknown format \(version)")
        }
        guard UInt64(bytes.count - 24) == length else { throw refuse("is damaged (length \(bytes.count - 24), expected \(length))") }
        let payload = Array(bytes[24...])
        guard Self.crc(payload) == crc else { throw refuse("is damaged (checksum mismatch)") }
        var r = ByteReader(payload)
        do {
            var c = Checkpoint(config: config)
            let name = try r.string()
            // Another pipeline's state, even one with the same sources, is never merged.
            guard name == config.name else {
                throw refuse("belongs to pipeline \"\(name)\", not \"\(config.name)\"; give each pipeline its own checkpoint")
            }
            c.pipeline = name
            let digest = try r.fixed64()
            guard digest == c.configDigest else {
                throw refuse("was written under other settings of pipeline \(name) (its zone, its sources' names, formats or zones, or call rules changed); move it away to start over")
            }
            c.aggregate = try PartialAggregate.decode(&r, zone: config.zone)
            let n = try r.count()
            guard n == config.sources.count else { throw refuse("has \(n) sources, the pipeline \(config.sources.count)") }
            c.sources = []
            for _ in 0..<n { c.sources.append(try InputStats.decode(&r)) }
            for k in 0..<n {
                for _ in 0..<(try r.count()) { c.calls[k].append(try CallSegment.decode(&r)) }
            }
            for _ in 0..<(try r.count()) { c.files.append(try decodePosition(&r, version: version, sources: n)) }
            guard r.atEnd else { throw ByteReader.Truncated() }
            return c
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw refuse("is damaged (its content does not decode)")
        }
    }
}

public struct CheckpointError: Error, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "checkpoint \(path) \(problem); refusing to start from it" }
}
