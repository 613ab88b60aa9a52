/// Turns a file's bytes into decoded text, a chunk at a time, with bounded memory.
///
/// A decoder is either *finite* (batch: the end of the file is the end of the input; a member
/// cut short there is damage) or *live* (follow: the file may still grow; at its current end
/// the decoder returns 0 and picks up where it stopped on the next call).
public protocol ByteDecoder: AnyObject {
    /// Fills `buffer` with the next decoded bytes. `count` is 0 when nothing more can be
    /// decoded now (finite: the end). `gap` says the decoded stream is broken after these
    /// bytes (damaged gzip): a partial line carried across it must not be joined with what
    /// comes next.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> (count: Int, gap: Bool)
    /// Bytes of the file consumed so far.
    var bytesConsumed: Int { get }
    /// Decoded bytes produced so far, counted from the start of the file.
    var decodedOffset: Int { get }
    /// Damage found so far, in file order.
    var damage: [DecodeDamage] { get }
    /// Where to start decoding again to reach decoded offset `decoded` (at or before it).
    func resumePoint(for decoded: Int) -> ResumePoint
}

/// A place decoding can start from: a file offset and the decoded offset it corresponds to
/// (for gzip, the start of a member, or an access point inside one).
public struct ResumePoint: Sendable, Equatable {
    public var fileOffset: Int
    public var decodedOffset: Int
    /// Inside a gzip member (follow: a member still being written): what inflating needs to
    /// go on from `fileOffset` there. nil: a member starts at `fileOffset` (or plain text).
    public var access: AccessPoint?

    public static let start = ResumePoint(fileOffset: 0, decodedOffset: 0)

    public init(fileOffset: Int, decodedOffset: Int, access: AccessPoint? = nil) {
        self.fileOffset = fileOffset
        self.decodedOffset = decodedOffset
        self.access = access
    }
}

/// A deflate block boundary inside a gzip member, as zlib's `examples/zran.c` keeps one: the
/// bits of the byte before `ResumePoint.fileOffset` not yet used, the last 32 KiB decoded (the
/// window later blocks may copy from), and the member's CRC-32 and length so far, so that its
/// trailer is still checked when it ends. The window is decoded log text: a checkpoint holds
/// it only for a gzip file still being written (see the README's table of what aocpipe writes).
public struct AccessPoint: Sendable, Equatable {
    /// Where the member's header starts (damage is reported there, and resync starts after it).
    public var memberStart: Int
    /// Decoded offset of the member's first byte.
    public var memberDecodedStart: Int
    /// 0-7 bits of the byte at `fileOffset - 1` still to be read (its high bits).
    public var bits: Int
    public var crc: UInt32
    public var window: [UInt8]

    /// zlib's window: the most a deflate stream copies from.
    public static let windowSize = 32 * 1024
}

/// A damaged region of a compressed file. Says where, never what the bytes were.
public struct DecodeDamage: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case corruptMember = "corrupt gzip member"
        case truncatedMember = "truncated gzip member"
        case garbage = "bytes that are not a gzip member"
    }
    public var path: String
    public var kind: Kind
    /// Compressed offset where the damaged member (or the garbage) starts.
    public var offset: Int
    /// Where decoding resumed, or nil if nothing followed.
    public var resumedAt: Int?

    public var description: String {
        var s = "\(path): \(kind.rawValue) at compressed offset \(offset)"
        if let r = resumedAt { s += ", resynced at offset \(r)" } else { s += ", nothing decodable after it" }
        return s
    }
}

public enum Decoding {
    /// Whether a file starts with the gzip magic bytes `1f 8b`.
    public static func isGzip(_ file: InputFile) throws(InputError) -> Bool {
        var magic: (UInt8, UInt8) = (0, 0)
        let n = try withUnsafeMutableBytes(of: &magic) { (b) throws(InputError) -> Int in try file.read(at: 0, into: b) }
        return n == 2 && magic.0 == 0x1f && magic.1 == 0x8b
    }

    /// Opens `file` with the decoder its first bytes call for: gzip for `1f 8b`, else plain.
    /// `engine`: the inflater for gzip (default: `InflateEngines.preferred`).
    public static func decoder(for file: InputFile, readSize: Int = 256 * 1024, live: Bool = false,
                               from resume: ResumePoint = .start, engine: InflateEngines.Kind? = nil) throws(InputError) -> any ByteDecoder {
        if try isGzip(file) {
            return try GzipDecoder(file: file, readSize: readSize, live: live, from: resume, engine: engine)
        }
        return PlainDecoder(file: file, from: resume.decodedOffset)
    }
}

/// Plain text: the file's bytes as they are.
public final class PlainDecoder: ByteDecoder {
    let file: InputFile
    public private(set) var bytesConsumed: Int
    public var decodedOffset: Int { bytesConsumed }
    public var damage: [DecodeDamage] { [] }

    public init(file: InputFile, from offset: Int = 0) {
        self.file = file
        bytesConsumed = offset
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> (count: Int, gap: Bool) {
        let n = try file.read(at: bytesConsumed, into: buffer)
        bytesConsumed += n
        return (n, false)
    }

    public func resumePoint(for decoded: Int) -> ResumePoint { ResumePoint(fileOffset: decoded, decodedOffset: decoded) }
}
