/// Turns a file's bytes into decoded text, a chunk at a time, with bounded memory.
public protocol ByteDecoder: AnyObject {
    /// Fills `buffer` with the next decoded bytes. `count` is 0 only at the end of the input.
    /// `gap` says the decoded stream is broken after these bytes (damaged gzip): a partial
    /// line carried across it must not be joined with what comes next.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> (count: Int, gap: Bool)
    /// Bytes of the file consumed so far.
    var bytesConsumed: Int { get }
    /// Damage found so far, in file order.
    var damage: [DecodeDamage] { get }
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
    /// Opens `file` with the decoder its first bytes call for: gzip for `1f 8b`, else plain.
    public static func decoder(for file: InputFile, readSize: Int = 256 * 1024) throws(InputError) -> any ByteDecoder {
        var magic: (UInt8, UInt8) = (0, 0)
        let n = try withUnsafeMutableBytes(of: &magic) { (b) throws(InputError) -> Int in try file.read(at: 0, into: b) }
        if n == 2 && magic.0 == 0x1f && magic.1 == 0x8b {
            return try GzipDecoder(file: file, readSize: readSize)
        }
        return PlainDecoder(file: file)
    }
}

/// Plain text: the file's bytes as they are.
public final class PlainDecoder: ByteDecoder {
    let file: InputFile
    public private(set) var bytesConsumed = 0
    public var damage: [DecodeDamage] { [] }

    public init(file: InputFile) { self.file = file }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> (count: Int, gap: Bool) {
        let n = try file.read(at: bytesConsumed, into: buffer)
        bytesConsumed += n
        return (n, false)
    }
}
