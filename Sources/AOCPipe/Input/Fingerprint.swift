/// What identifies a file's content whatever its name, inode or compression: a hash of its
/// first decoded bytes. `Master.csv`, `Master.csv.1` and `Master.csv.1.gz` share it.
///
/// A fingerprint covers the first `span` decoded bytes, or all of a shorter file as long as
/// that holds a complete line: a line has times and ids that make it unique, a few bytes of
/// a line being written do not (every CDR line starts with `"","0`).
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

    /// Up to `length` first decoded bytes of `file`, hashed, with whether they hold a newline.
    static func prefix(of file: InputFile, length: Int) throws(InputError) -> (Fingerprint, hasNewline: Bool)? {
        let decoder = try Decoding.decoder(for: file, readSize: 16 * 1024, live: true)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(length, 1), alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0
        while filled < length {
            let (n, gap) = try decoder.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<length]))
            filled += n
            if n == 0 || gap { break }
        }
        guard filled > 0 else { return nil }
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<filled])
        return (Fingerprint(length: filled, hash: hash(bytes)), bytes.contains(0x0A))
    }

    /// The fingerprint of a file, or nil if it is empty. With `requireLine` (a file that may
    /// still grow), also nil while it holds no complete line.
    public static func of(_ file: InputFile, requireLine: Bool = false) throws(InputError) -> Fingerprint? {
        guard let (fp, hasNewline) = try prefix(of: file, length: span) else { return nil }
        return !requireLine || hasNewline || fp.length == span ? fp : nil
    }

    /// Whether `file` starts with the content this fingerprint was taken of.
    public func matches(_ file: InputFile) throws(InputError) -> Bool {
        guard let (other, _) = try Fingerprint.prefix(of: file, length: length) else { return false }
        return other == self
    }
}
