/// A case id held inline (no heap allocation per record).
///
/// Ids of up to 32 bytes are stored exactly. Longer ids keep their first 24 bytes plus a
/// 64-bit FNV-1a hash of the whole id in the last 8 bytes, so two long ids collide only if they
/// share a prefix and a hash.
public struct CaseKey: Hashable, Comparable, Sendable {
    var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0
    var length: UInt32 = 0

    public init() {}

    @inline(__always)  // built in registers where it is used (a returned key read back as
                       // wider words than it was stored in stalls on store forwarding)
    public init(_ bytes: UnsafeRawBufferPointer) {
        length = UInt32(truncatingIfNeeded: bytes.count)
        let n = bytes.count
        if n >= 8 && n <= 32 {
            // In words, loaded straight from the line (a byte copy into the words and reading
            // them back stalls on store forwarding): whole words, then the bytes left as the
            // word that ends the id, shifted down. Bytes in memory order, as the copy gives.
            let p = bytes.baseAddress!
            @inline(__always) func word(_ from: Int) -> UInt64 {
                if from + 8 <= n { return p.loadUnaligned(fromByteOffset: from, as: UInt64.self) }
                if from >= n { return 0 }
                let last = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))
                return (last >> UInt64(8 * (from + 8 - n))).littleEndian
            }
            (w0, w1, w2, w3) = (word(0), word(8), word(16), word(24))
            return
        }
        (w0, w1, w2, w3) = Self.words(of: bytes)
    }

    /// Short ids byte by byte, long ones as prefix and hash (off the common path).
    @inline(never)
    static func words(of bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64, UInt64, UInt64) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { dest in
            if bytes.count <= 32 {
                if bytes.count > 0 { dest.copyMemory(from: bytes) }
            } else {
                dest.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<24]))
                var hash: UInt64 = 0xcbf2_9ce4_8422_2325
                for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
                dest.storeBytes(of: hash, toByteOffset: 24, as: UInt64.self)
            }
        }
        return words
    }

    init(words: (UInt64, UInt64, UInt64, UInt64), length: UInt32) {
        (w0, w1, w2, w3) = words
        self.length = length
    }

    public init(_ string: String) {
        var s = string
        self = s.withUTF8 { CaseKey(UnsafeRawBufferPointer($0)) }
    }

    public var isEmpty: Bool { length == 0 }

    /// An arbitrary but fixed order (for deterministic checkpoints).
    public static func < (a: CaseKey, b: CaseKey) -> Bool {
        (a.w0, a.w1, a.w2, a.w3, a.length) < (b.w0, b.w1, b.w2, b.w3, b.length)
    }
}
