/// The 64-bit hash a call is known by: of its `linkedid` or `uniqueid` bytes, never 0 (0 means
/// "no key"). Stable across runs and machines (checkpoints hold it), and one-way enough that a
/// checkpoint holds no id. Two different ids share a hash with odds of about n²/2⁶⁵ for n ids
/// open at once (a few thousand at the hotline's rate: 10⁻¹²).
enum CallKeyHash {
    static let k0: UInt64 = 0x9E37_79B9_7F4A_7C15, k1: UInt64 = 0xBF58_476D_1CE4_E5B9

    @inline(__always)
    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let n = bytes.count
        var h = k0 ^ UInt64(truncatingIfNeeded: n) &* k1
        guard let p = bytes.baseAddress, n > 0 else { return finish(h) }
        var i = 0
        // Eight bytes at a time, then the last bytes as one word (overlapping when n >= 8).
        while i + 8 <= n {
            h = mix(h, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            i += 8
        }
        if i < n {
            var last: UInt64 = 0
            if n >= 8 {
                last = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)) >> UInt64(8 * (8 - (n - i)))
            } else {
                for k in 0..<n { last |= UInt64(p.load(fromByteOffset: k, as: UInt8.self)) << UInt64(8 * k) }
            }
            h = mix(h, last ^ 0xFF)
        }
        return finish(h)
    }

    @inline(__always)
    static func mix(_ h: UInt64, _ w: UInt64) -> UInt64 {
        var x = (h ^ w) &* k1
        x ^= x >> 29
        return x &* k0
    }

    /// Murmur3's finaliser: every input bit reaches every output bit.
    @inline(__always)
    static func finish(_ h: UInt64) -> UInt64 {
        var x = h
        x ^= x >> 33; x = x &* 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33; x = x &* 0xC4CE_B9FE_1A85_EC53
        x ^= x >> 33
        return x == 0 ? 1 : x
    }
}
