/// What identifies a file's content whatever its name, inode or compression: its first decoded
/// bytes. `Master.csv`, `Master.csv.1` and `Master.csv.1.gz` share them.
///
/// A fingerprint is taken of the first `span` decoded bytes, or all of a shorter file as long
/// as they include a complete line: a line has times and ids that make it unique, a few bytes
/// of a line being written do not (every CDR line starts with `"","0`).
///
/// What is kept, and written to checkpoints, is hashes with lengths, never the bytes (which
/// hold caller numbers and account strings): the hash of the whole prefix, and the hash of
/// the content up to each line end inside it, so a copy still being written (a shorter
/// prefix, cut after some line) is still recognised as the same content. The bytes are kept in
/// memory only by the process that read them (`bytes`), never encoded.
public struct Fingerprint: Sendable, Hashable, CustomStringConvertible {
    /// How many decoded bytes were fingerprinted.
    public let length: Int
    /// FNV-1a of those bytes.
    public let hash: UInt64
    /// The hash of the content up to the end of each complete line that ends before `length`.
    public let lineEnds: [LineEnd]
    /// The bytes, when this process read them (nil for a fingerprint loaded from a checkpoint).
    public let bytes: [UInt8]?

    public struct LineEnd: Sendable, Hashable {
        public var offset: Int
        public var hash: UInt64
    }

    public static let span = 1024

    public init(bytes: [UInt8]) {
        length = bytes.count
        self.bytes = bytes
        var h = Self.hashSeed
        var ends: [LineEnd] = []
        for (i, b) in bytes.enumerated() {
            h = Self.mix(h, b)
            if b == 0x0A && i + 1 < bytes.count { ends.append(LineEnd(offset: i + 1, hash: h)) }
        }
        hash = h
        lineEnds = ends
    }

    /// A fingerprint as a checkpoint holds it.
    init(length: Int, hash: UInt64, lineEnds: [LineEnd]) {
        self.length = length
        self.hash = hash
        self.lineEnds = lineEnds
        bytes = nil
    }

    /// The same content: lengths and hashes agree (whether the bytes are at hand or not).
    public static func == (a: Fingerprint, b: Fingerprint) -> Bool { a.length == b.length && a.hash == b.hash }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(length)
        hasher.combine(hash)
    }

    public var description: String { "\(length) bytes, hash \(String(hash, radix: 16))" }

    static let hashSeed: UInt64 = 0xcbf2_9ce4_8422_2325
    @inline(__always) static func mix(_ h: UInt64, _ b: UInt8) -> UInt64 { (h ^ UInt64(b)) &* 0x100_0000_01b3 }

    /// FNV-1a over `bytes`.
    static func hash<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var h = hashSeed
        for b in bytes { h = mix(h, b) }
        return h
    }

    /// Whether this content is the start of `other`'s (or all of it): by `other`'s bytes when
    /// they are at hand, else by its line-end hashes (this prefix must end where a line does).
    public func isStart(of other: Fingerprint) -> Bool {
        if length > other.length { return false }
        if length == other.length { return self == other }
        if let bytes = other.bytes { return Self.hash(bytes.prefix(length)) == hash }
        return other.lineEnds.contains(LineEnd(offset: length, hash: hash))
    }

    /// Up to `length` first decoded bytes of `file`, as its reader decodes them: past damage
    /// (a first gzip member that fails before its first byte is damage, not an empty file).
    /// `live`: a file that may still grow (a member cut short waits for more).
    static func prefix(of file: InputFile, length: Int, live: Bool = true) throws(InputError) -> [UInt8] {
        let decoder = try Decoding.decoder(for: file, readSize: 16 * 1024, live: live)
        var bytes = [UInt8](repeating: 0, count: max(length, 1))
        var filled = 0
        var failure: InputError?
        bytes.withUnsafeMutableBytes { buffer in
            while filled < length {
                do throws(InputError) {
                    let (n, gap) = try decoder.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<length]))
                    filled += n
                    if n == 0 && !gap { break }
                } catch {
                    failure = error
                    break
                }
            }
        }
        if let failure { throw failure }
        return Array(bytes.prefix(filled))
    }

    /// The first bytes of `file` this fingerprint covers (for a fingerprint loaded without them).
    public func firstBytes(of file: InputFile) -> [UInt8] {
        bytes ?? ((try? Fingerprint.prefix(of: file, length: length)) ?? [])
    }

    /// The fingerprint of a file, or nil if it decodes to nothing. With `requireLine` (a file
    /// that may still grow, read live), also nil while it holds no complete line.
    public static func of(_ file: InputFile, requireLine: Bool = false) throws(InputError) -> Fingerprint? {
        let bytes = try prefix(of: file, length: span, live: requireLine)
        guard !bytes.isEmpty, !requireLine || bytes.contains(0x0A) || bytes.count == span else { return nil }
        return Fingerprint(bytes: bytes)
    }

    /// How another file's content relates to this one.
    public enum Match { case same, growingCopy, different }

    /// `same`: `file` starts with this content. `growingCopy`: it holds less, and what it holds
    /// up to its last complete line is the start of this content (a copy or `.gz` being written:
    /// look again later).
    public func match(_ file: InputFile) throws(InputError) -> Match {
        FingerprintProbe(bytes: try Fingerprint.prefix(of: file, length: length)).relation(to: self)
    }

    /// Whether `file` starts with the content this fingerprint was taken of.
    public func matches(_ file: InputFile) throws(InputError) -> Bool { try match(file) == .same }

    func encode(_ w: inout ByteWriter) {
        w.int(length)
        w.fixed64(hash)
        w.int(lineEnds.count)
        for end in lineEnds { w.int(end.offset); w.fixed64(end.hash) }
    }

    static func decode(_ r: inout ByteReader) throws(ByteReader.Truncated) -> Fingerprint {
        let length = try r.tally()
        let hash = try r.fixed64()
        var ends: [LineEnd] = []
        for _ in 0..<(try r.count()) {
            let offset = try r.tally()
            guard offset < length else { throw ByteReader.Truncated() }
            ends.append(LineEnd(offset: offset, hash: try r.fixed64()))
        }
        return Fingerprint(length: length, hash: hash, lineEnds: ends)
    }
}

/// A file's first bytes, ready to be compared with many fingerprints at no cost each: the
/// hash of every prefix, once. `Fingerprint.match` is one such comparison; a follower's look
/// compares each candidate file with every identity it knows without reading it again (a
/// restart with thousands of positions read each candidate once per position).
struct FingerprintProbe {
    /// `[i]`: the hash of the first `i` bytes.
    private let prefixHashes: [UInt64]
    /// Just past the last newline, if any.
    private let lastLineEnd: Int?

    init(bytes: [UInt8]) {
        var hashes = [UInt64](repeating: 0, count: bytes.count + 1)
        var h = Fingerprint.hashSeed
        hashes[0] = h
        for (i, b) in bytes.enumerated() {
            h = Fingerprint.mix(h, b)
            hashes[i + 1] = h
        }
        prefixHashes = hashes
        lastLineEnd = bytes.lastIndex(of: 0x0A).map { $0 + 1 }
    }

    var count: Int { prefixHashes.count - 1 }

    func relation(to stored: Fingerprint) -> Fingerprint.Match {
        if count >= stored.length { return prefixHashes[stored.length] == stored.hash ? .same : .different }
        guard let end = lastLineEnd else { return .different }
        return stored.lineEnds.contains(Fingerprint.LineEnd(offset: end, hash: prefixHashes[end])) ? .growingCopy : .different
    }
}
