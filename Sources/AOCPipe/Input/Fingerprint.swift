/// What identifies a file's content whatever its name, inode or compression: a hash of its
/// first decoded bytes. `Master.csv`, `Master.csv.1` and `Master.csv.1.gz` share it.
public struct Fingerprint: Sendable, Hashable, CustomStringConvertible {
    /// How many decoded bytes the hash covers (up to `Fingerprint.span`).
    public var length: Int
    public var hash: UInt64

    public static let span = 1024

    public var description: String { "\(length):\(String(hash, radix: 16))" }

    /// FNV-1a over `bytes`.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// The fingerprint of a file's first `span` decoded bytes (fewer if it is shorter), or nil
    /// for a file with no decoded bytes yet.
    public static func of(_ file: InputFile, span: Int = Fingerprint.span) throws(InputError) -> Fingerprint? {
        let decoder = try Decoding.decoder(for: file, readSize: 16 * 1024)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: span, alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0
        while filled < span {
            let (n, gap) = try decoder.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            filled += n
            if n == 0 || gap { break }
        }
        guard filled > 0 else { return nil }
        return Fingerprint(length: filled, hash: hash(UnsafeRawBufferPointer(rebasing: buffer[0..<filled])))
    }
}
