/// Case id -> earliest `reported` time, for the ids the latency join cannot pack into 64 bits
/// (`CaseShapes`): a few, or none.
///
/// Open addressing with linear probing and a multiply-xorshift hash of the key's words. The
/// join looks a case up once per freeze event, and Swift's `Dictionary` spends most of that
/// time seeding SipHash per lookup (measured: ~40% of freeze-log processing). Case ids come
/// from the hotline's own case system, not from callers, so a flooding-resistant hash buys
/// nothing here. An empty key (length 0) marks a free slot; parsers never produce one.
struct CaseTable: Sendable {
    private var keys: [CaseKey]
    private var values: [Int]
    private(set) var count = 0

    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: CaseKey(), count: size)
        values = Array(repeating: 0, count: size)
    }

    @inline(__always)
    static func hash(_ k: CaseKey) -> Int {
        var h = k.w0 &* 0x9E37_79B9_7F4A_7C15
        h ^= k.w1 &* 0xC2B2_AE3D_27D4_EB4F
        h ^= k.w2 &* 0x1656_67B1_9E37_79F9
        h ^= k.w3 &* 0x27D4_EB2F_1656_67C5
        h ^= UInt64(k.length) &* 0x9E37_79B9
        h ^= h >> 32
        h &*= 0xD6E8_FEB8_6659_FD93
        h ^= h >> 29
        return Int(truncatingIfNeeded: h)
    }

    /// The slot holding `key`, or the free slot where it would go.
    @inline(__always)
    private func slot(of key: CaseKey) -> Int {
        let mask = keys.count - 1
        var i = Self.hash(key) & mask
        while true {
            let k = keys[i]
            if k.length == 0 || k == key { return i }
            i = (i + 1) & mask
        }
    }

    subscript(key: CaseKey) -> Int? {
        let i = slot(of: key)
        return keys[i].length == 0 ? nil : values[i]
    }

    /// Keeps the earlier of the stored time and `millis`: one probe, and the only way in.
    @inline(__always)
    mutating func keepEarliest(_ key: CaseKey, _ millis: Int) {
        precondition(!key.isEmpty, "an empty case id is not a key")
        var i = slot(of: key)
        if keys[i].length != 0 {
            if values[i] > millis { values[i] = millis }
            return
        }
        if (count + 1) * 4 > keys.count * 3 {
            grow()
            i = slot(of: key)
        }
        keys[i] = key
        values[i] = millis
        count += 1
    }

    private mutating func grow() {
        let old = (keys, values)
        self = CaseTable(capacity: keys.count)
        for (k, v) in zip(old.0, old.1) where k.length != 0 { keepEarliest(k, v) }
    }

    /// Every entry, in no particular order.
    var entries: [(key: CaseKey, value: Int)] {
        zip(keys, values).compactMap { $0.0.length == 0 ? nil : (key: $0.0, value: $0.1) }
    }

    func filter(_ keep: (Int) -> Bool) -> CaseTable {
        var t = CaseTable(capacity: count)
        for (k, v) in zip(keys, values) where k.length != 0 && keep(v) { t.keepEarliest(k, v) }
        return t
    }
}
