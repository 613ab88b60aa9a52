#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A cursor over one JSON text: whitespace, strings and generic values.
struct JSONScanner {
    let p: UnsafeRawBufferPointer
    var i = 0

    init(_ p: UnsafeRawBufferPointer) { self.p = p }

    var peek: UInt8 { i < p.count ? p[i] : 0 }

    /// Skips whitespace; false at the end of the text.
    @inline(__always)
    mutating func skipSpace() -> Bool {
        while i < p.count {
            switch p[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return true
            }
        }
        return false
    }

    /// Consumes `text` when the next bytes are exactly it.
    @inline(__always)
    mutating func literal(_ text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard i + n <= p.count, memcmp(p.baseAddress! + i, text.utf8Start, n) == 0 else { return false }
        i += n
        return true
    }

    /// An event name and its closing quote, compared a word at a time; nil (and `i` left
    /// alone) for any other name, or one with escapes.
    @inline(__always)
    mutating func eventName() -> Event.Kind? {
        guard i + 8 <= p.count else { return nil }
        let base = p.baseAddress! + i
        let w = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        @inline(__always) func word(at k: Int) -> UInt64 { UInt64(littleEndian: (base + k).loadUnaligned(as: UInt64.self)) }
        if w & 0x00FF_FFFF_FFFF_FFFF == 0x0022_6E65_7A6F_7266 {  // `frozen"`
            i += 7
            return .frozen
        }
        if w == 0x6465_7472_6F70_6572 && i + 9 <= p.count && base.load(fromByteOffset: 8, as: UInt8.self) == UInt8(ascii: "\"") {  // `reported`
            i += 9
            return .reported
        }
        if w == 0x725F_657A_6565_7266 && i + 17 <= p.count && word(at: 8) == 0x6465_7473_6575_7165  // `freeze_r`, `equested`
            && base.load(fromByteOffset: 16, as: UInt8.self) == UInt8(ascii: "\"") {
            i += 17
            return .freezeRequested
        }
        if w == 0x665F_657A_6565_7266 && i + 14 <= p.count && word(at: 6) == 0x2264_656C_6961_665F {  // `freeze_f`, `_failed"`
            i += 14
            return .freezeFailed
        }
        return nil
    }

    /// After the writer's three members: members whose keys are none of `ts`, `event` and
    /// `case` (unescaped), then `}` ending the line. False on anything else (spaces, escaped
    /// or repeated keys, broken JSON), which the general reading then judges.
    @inline(__always)
    mutating func otherMembersToTheEnd() -> Bool {
        while i < p.count {
            let c = p[i]
            if c == UInt8(ascii: "}") { return i + 1 == p.count }
            // The writer's own other members (`call`, `bank`, `account`): the key, its quotes
            // and the colon are one or two word compares, then only the value is scanned.
            if i + 12 <= p.count {
                let w = UInt64(littleEndian: (p.baseAddress! + i).loadUnaligned(as: UInt64.self))
                var valueAt = 0
                if w == 0x3A22_6C6C_6163_222C || w == 0x3A22_6B6E_6162_222C {  // `,"call":`, `,"bank":`
                    valueAt = i + 8
                } else if w == 0x6E75_6F63_6361_222C  // `,"accoun`, then `t":`
                    && UInt32(littleEndian: (p.baseAddress! + i + 8).loadUnaligned(as: UInt32.self)) & 0x00FF_FFFF == 0x3A_2274 {
                    valueAt = i + 11
                }
                if valueAt > 0 && p[valueAt] == UInt8(ascii: "\"") {
                    i = valueAt
                    guard scanString() != nil else { return false }
                    continue
                }
            }
            guard c == UInt8(ascii: ","), i + 1 < p.count, p[i + 1] == UInt8(ascii: "\"") else { return false }
            i += 1
            guard let key = scanString(), !key.escaped,
                  FreezeJSONParser.fieldOfName(UnsafeRawBufferPointer(rebasing: p[key.start..<key.end])) == 0,
                  i + 1 < p.count, p[i] == UInt8(ascii: ":")
            else { return false }
            i += 1
            if p[i] == UInt8(ascii: "\"") {
                guard scanString() != nil else { return false }
            } else {
                guard skipValue() else { return false }
            }
        }
        return false
    }

    /// `scanString` with the opening quote already consumed.
    @inline(__always)
    mutating func scanStringBody() -> FreezeJSONParser.StringSlice? {
        i -= 1
        return scanString()
    }

    /// Scans a string starting at its opening quote; leaves `i` after the closing quote.
    ///
    /// Eight bytes at a time while they hold no quote, backslash or control byte (SWAR: the
    /// classic "has a zero byte" and "has a byte below n" tests on one 64-bit word); byte by
    /// byte from the first such byte on.
    @inline(__always)
    mutating func scanString() -> FreezeJSONParser.StringSlice? {
        var s = FreezeJSONParser.StringSlice()
        s.present = true
        i += 1
        s.start = i
        while true {
            skipOrdinaryWords()
            guard i < p.count else { return nil }
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                s.end = i
                i += 1
                return s
            }
            if c == UInt8(ascii: "\\") {
                s.escaped = true
                guard i + 1 < p.count else { return nil }
                switch p[i + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 2
                case UInt8(ascii: "u"):
                    guard i + 6 <= p.count, Self.hex4(p, i + 2) != nil else { return nil }
                    i += 6
                default:
                    return nil
                }
                continue
            }
            if c < 0x20 { return nil }
            i += 1
        }
    }

    /// Moves `i` over whole words of ordinary string bytes, to the first quote, backslash or
    /// control byte (or to the last 7 bytes of the text).
    @inline(__always)
    mutating func skipOrdinaryWords() {
        let base = p.baseAddress!
        while i + 8 <= p.count {
            let w = UInt64(littleEndian: (base + i).loadUnaligned(as: UInt64.self))
            let special = Self.specialBytes(w)
            if special == 0 { i += 8; continue }
            i += special.trailingZeroBitCount >> 3
            return
        }
    }

    /// A word with the high bit set in (at least) the lowest byte of `w` that is `"`, `\\` or
    /// below 0x20, and zero when there is none. Bits above the first such byte may be spurious
    /// (borrows), so only the lowest set bit is meaningful.
    @inline(__always)
    static func specialBytes(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
        let zeroQuote = (quote &- ones) & ~quote
        let zeroBackslash = (backslash &- ones) & ~backslash
        let control = (w &- ones &* 0x20) & ~w
        return (zeroQuote | zeroBackslash | control) & highs
    }

    /// Deepest nesting of arrays and objects an unknown member's value may have (a freeze
    /// event's member nests no deeper than a few levels; deeper is taken as not JSON).
    static let maxDepth = 64

    /// Skips one JSON value (RFC 8259: string, number, `true`, `false`, `null`, array,
    /// object), checking its grammar: a value that is not JSON (`[1,]`, `{]`, `[tru]`,
    /// `[012]`, `{"a" b}`) fails. Iterative: the open containers are bits of one word.
    mutating func skipValue() -> Bool {
        var objects: UInt64 = 0  // bit d: the container at depth d is an object
        var depth = 0
        /// After `{` or `,` in an object: a member name and its colon.
        func memberName() -> Bool {
            guard skipSpace(), p[i] == UInt8(ascii: "\""), scanString() != nil, skipSpace(),
                  p[i] == UInt8(ascii: ":") else { return false }
            i += 1
            return true
        }
        while true {
            // A value.
            guard skipSpace() else { return false }
            switch p[i] {
            case UInt8(ascii: "\""):
                guard scanString() != nil else { return false }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = p[i] == UInt8(ascii: "{")
                guard depth < Self.maxDepth else { return false }
                i += 1
                guard skipSpace() else { return false }
                if p[i] == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    i += 1  // empty: a whole value
                } else {
                    if isObject { objects |= 1 << UInt64(depth) } else { objects &= ~(1 << UInt64(depth)) }
                    depth += 1
                    if isObject && !memberName() { return false }
                    continue
                }
            case UInt8(ascii: "t"): guard literal("true") else { return false }
            case UInt8(ascii: "f"): guard literal("false") else { return false }
            case UInt8(ascii: "n"): guard literal("null") else { return false }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard number() else { return false }
            default:
                return false
            }
            // After a value: the next member or element, or the end of containers.
            var next = false
            while depth > 0 && !next {
                guard skipSpace() else { return false }
                let inObject = objects >> UInt64(depth - 1) & 1 == 1
                switch p[i] {
                case UInt8(ascii: ","):
                    i += 1
                    if inObject && !memberName() { return false }
                    next = true
                case UInt8(ascii: "}") where inObject, UInt8(ascii: "]") where !inObject:
                    i += 1
                    depth -= 1
                default:
                    return false
                }
            }
            if !next { return true }
        }
    }

    /// A JSON number: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    mutating func number() -> Bool {
        @inline(__always) func digit() -> Bool { i < p.count && p[i] >= 48 && p[i] <= 57 }
        if p[i] == UInt8(ascii: "-") { i += 1 }
        guard digit() else { return false }
        if p[i] == UInt8(ascii: "0") { i += 1 } else { while digit() { i += 1 } }
        if i < p.count && p[i] == UInt8(ascii: ".") {
            i += 1
            guard digit() else { return false }
            while digit() { i += 1 }
        }
        if i < p.count && (p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E")) {
            i += 1
            if i < p.count && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { i += 1 }
            guard digit() else { return false }
            while digit() { i += 1 }
        }
        // A number ends where JSON allows: not in the middle of a word (`0x1`, `012`).
        if i < p.count {
            let c = p[i]
            if (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == UInt8(ascii: ".") { return false }
        }
        return true
    }

    static func hex4(_ p: UnsafeRawBufferPointer, _ at: Int) -> UInt32? {
        var v: UInt32 = 0
        for k in at..<(at + 4) {
            let c = p[k]
            let d: UInt8
            switch c {
            case 48...57: d = c - 48
            case 65...70: d = c - 55
            case 97...102: d = c - 87
            default: return nil
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// Decodes the escapes of a string's raw content (already validated by `scanString`) into
    /// `out`, which must hold `raw.count` bytes (escapes never grow). Returns the length.
    static func unescape(_ raw: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int {
        var i = 0, o = 0
        func put(_ b: UInt8) { out[o] = b; o += 1 }
        while i < raw.count {
            let c = raw[i]
            guard c == UInt8(ascii: "\\"), i + 1 < raw.count else { put(c); i += 1; continue }
            let e = raw[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): put(0x08)
            case UInt8(ascii: "f"): put(0x0C)
            case UInt8(ascii: "n"): put(0x0A)
            case UInt8(ascii: "r"): put(0x0D)
            case UInt8(ascii: "t"): put(0x09)
            case UInt8(ascii: "u"):
                guard i + 4 <= raw.count, var scalar = hex4(raw, i) else { return o }
                i += 4
                if scalar >= 0xD800 && scalar < 0xDC00, i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"),
                   raw[i + 1] == UInt8(ascii: "u"), let low = hex4(raw, i + 2), low >= 0xDC00, low < 0xE000 {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                // UTF-8 of the scalar (a lone surrogate becomes U+FFFD). At most 4 bytes for
                // 6 or 12 escape bytes, so the output never outgrows the input.
                if scalar >= 0xD800 && scalar < 0xE000 { scalar = 0xFFFD }
                if scalar < 0x80 {
                    put(UInt8(scalar))
                } else if scalar < 0x800 {
                    put(UInt8(0xC0 | scalar >> 6)); put(UInt8(0x80 | scalar & 0x3F))
                } else if scalar < 0x10000 {
                    put(UInt8(0xE0 | scalar >> 12)); put(UInt8(0x80 | (scalar >> 6) & 0x3F))
                    put(UInt8(0x80 | scalar & 0x3F))
                } else {
                    put(UInt8(0xF0 | scalar >> 18)); put(UInt8(0x80 | (scalar >> 12) & 0x3F))
                    put(UInt8(0x80 | (scalar >> 6) & 0x3F)); put(UInt8(0x80 | scalar & 0x3F))
                }
            default: put(e)
            }
        }
        return o
    }
}
