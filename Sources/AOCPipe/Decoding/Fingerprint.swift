/// What identifies a file's content whatever its name, inode or compression: its first decoded
/// bytes. `Master.csv`, `Master.csv.1` and `Master.csv.1.gz` share them.
///
/// A fingerprint holds the first `span` decoded bytes, or all of a shorter file as long as
/// they include a complete line: a line has times and ids that make it unique, a few bytes of
/// a line being written do not (every CDR line starts with `"","0`). The bytes themselves are
/// kept (not a hash), so a copy still being written, which shows a shorter prefix, is
/// recognised as the same content.
public struct Fingerprint: Sendable, Hashable, CustomStringConvertible {
    public var prefix: [UInt8]

    public static let span = 1024

    public var length: Int { prefix.count }

    public var description: String { "\(length) bytes, hash \(String(Self.hash(prefix), radix: 16))" }

    /// FNV-1a over `bytes`.
    static func hash<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
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

    /// The fingerprint of a file, or nil if it decodes to nothing. With `requireLine` (a file
    /// that may still grow, read live), also nil while it holds no complete line.
    public static func of(_ file: InputFile, requireLine: Bool = false) throws(InputError) -> Fingerprint? {
        let bytes = try prefix(of: file, length: span, live: requireLine)
        guard !bytes.isEmpty, !requireLine || bytes.contains(0x0A) || bytes.count == span else { return nil }
        return Fingerprint(prefix: bytes)
    }

    /// How another file's content relates to this one.
    public enum Match { case same, growingCopy, different }

    /// `same`: `file` starts with these bytes. `growingCopy`: it holds fewer bytes, all equal
    /// to the start of these (a copy or `.gz` being written: look again later).
    public func match(_ file: InputFile) throws(InputError) -> Match {
        let other = try Fingerprint.prefix(of: file, length: length)
        if other == prefix { return .same }
        if other.count < length && prefix.starts(with: other) { return .growingCopy }
        return .different
    }

    /// Whether `file` starts with the content this fingerprint was taken of.
    public func matches(_ file: InputFile) throws(InputError) -> Bool { try match(file) == .same }
}
