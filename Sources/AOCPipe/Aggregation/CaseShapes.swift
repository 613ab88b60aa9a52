/// Case ids packed into one 64-bit word, exactly: the latency join's keys.
///
/// An id's *shape* is the id with every digit written as `0`; its *number* is its digits read
/// as one decimal number. `AOC-20231101-000001` is shape `AOC-00000000-000000` and number
/// 20231101000001, and the two give the id back (the shape says how many digits, and where).
/// The word holds the shape's index in this table (1...127) in its top 7 bits and the number
/// in the other 57 (up to 17 digits). Ids that do not pack (more than 17 digits, over 32 bytes
/// (kept as prefix + hash by `CaseKey`), or a 128th shape) stay `CaseKey`s in the join.
///
/// Packing is what keeps the join small: 16 bytes per report or freeze instead of 48.
struct CaseShapes: Sendable {
    private(set) var shapes: [CaseKey] = []
    private var lastShape = CaseKey()
    private var lastIndex: UInt64 = 0

    static let maxShapes = 127
    static let numberBits: UInt64 = 57
    static let numberMask: UInt64 = (1 << numberBits) - 1
    static let maxDigits = 17

    /// The packed form of `key`, registering its shape if new; nil when it does not pack.
    @inline(__always)
    mutating func pack(_ key: CaseKey) -> UInt64? {
        guard let (shape, number) = Self.split(key) else { return nil }
        let index: UInt64
        if lastIndex != 0 && shape == lastShape {
            index = lastIndex
        } else {
            guard let found = self.index(of: shape, insert: true) else { return nil }
            index = found
            lastShape = shape
            lastIndex = found
        }
        return index << Self.numberBits | number
    }

    /// The index (1...127) of `shape`, added when new and `insert` allows and there is room.
    mutating func index(of shape: CaseKey, insert: Bool) -> UInt64? {
        if let i = shapes.firstIndex(of: shape) { return UInt64(i + 1) }
        guard insert, shapes.count < Self.maxShapes else { return nil }
        shapes.append(shape)
        return UInt64(shapes.count)
    }

    /// The id a packed word stands for.
    func unpack(_ packed: UInt64) -> CaseKey {
        let shape = shapes[Int(packed >> Self.numberBits) - 1]
        var number = packed & Self.numberMask
        var words = (shape.w0, shape.w1, shape.w2, shape.w3)
        withUnsafeMutableBytes(of: &words) { bytes in
            var k = Int(shape.length) - 1
            while k >= 0 {
                if bytes[k] == UInt8(ascii: "0") {
                    bytes[k] = UInt8(ascii: "0") + UInt8(number % 10)
                    number /= 10
                }
                k -= 1
            }
        }
        return CaseKey(words: words, length: shape.length)
    }

    /// Shape and number of an id, or nil when it has too many digits or is hashed.
    @inline(__always)
    static func split(_ key: CaseKey) -> (shape: CaseKey, number: UInt64)? {
        guard key.length <= 32 else { return nil }
        var words = (key.w0, key.w1, key.w2, key.w3)
        var number: UInt64 = 0
        var digits = 0
        withUnsafeMutableBytes(of: &words) { bytes in
            for k in 0..<Int(key.length) {
                let d = bytes[k] &- UInt8(ascii: "0")
                if d <= 9 {
                    number = number &* 10 &+ UInt64(d)
                    digits += 1
                    bytes[k] = UInt8(ascii: "0")
                }
            }
        }
        guard digits <= maxDigits else { return nil }
        return (CaseKey(words: words, length: key.length), number)
    }

    /// For each of `other`'s shapes, its index here (added when new and there is room), or nil.
    mutating func translation(from other: CaseShapes) -> [UInt64?] {
        other.shapes.map { index(of: $0, insert: true) }
    }
}
