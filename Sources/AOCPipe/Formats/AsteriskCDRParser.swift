#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses Asterisk `cdr_csv` lines (docs/FORMATS.md, "Asterisk CDR") in place.
///
/// Fields may be quoted (RFC 4180, `""` for a quote) or bare; only `dst`, `start` and
/// `disposition` are read. A line is judged by its column count (16, 18 or 21) and those fields.
public struct AsteriskCDRParser: LineParser {
    static let quote = UInt8(ascii: "\"")
    static let comma = UInt8(ascii: ",")

    /// Column indexes, identical in the 16-, 18- and 21-column layouts.
    static let dstColumn = 2, startColumn = 9, dispositionColumn = 14

    let hotline: [UInt8]
    var zone: Zone.Cursor
    /// The last date parsed: calls come in time order, most share it.
    private var days = DayCache()

    public init(hotline: String = Defaults.hotline, sourceZone: Zone) {
        self.hotline = Array(hotline.utf8)
        self.zone = Zone.Cursor(zone: sourceZone)
    }

    /// A field's content: a byte range of the line, and whether it holds doubled quotes.
    struct Field {
        var start = 0, end = 0
        var escaped = false
        var present = false
    }

    public mutating func parse(_ line: UnsafeRawBufferPointer) -> ParseOutcome {
        guard let base = line.baseAddress, line.count > 0 else { return .malformed(.columnCount) }
        let n = line.count
        var column = 0
        var i = 0
        var dst = Field(), start = Field(), disposition = Field()
        while true {
            var field = Field()
            field.present = true
            if i < n && line[i] == Self.quote {
                // Quoted: the field ends at a quote not followed by another quote.
                var j = i + 1
                while true {
                    guard j < n, let k = Self.find(Self.quote, base, from: j, to: n) else {
                        return .malformed(.badQuoting)
                    }
                    if k + 1 < n && line[k + 1] == Self.quote {
                        field.escaped = true
                        j = k + 2
                        continue
                    }
                    field.start = i + 1
                    field.end = k
                    i = k + 1
                    break
                }
                if i < n && line[i] != Self.comma { return .malformed(.badQuoting) }
            } else {
                let end = Self.find(Self.comma, base, from: i, to: n) ?? n
                field.start = i
                field.end = end
                i = end
            }
            switch column {
            case Self.dstColumn: dst = field
            case Self.startColumn: start = field
            case Self.dispositionColumn: disposition = field
            default: break
            }
            column += 1
            if i >= n { break }
            i += 1  // the comma
            if i == n {  // a trailing comma opens one last, empty field
                column += 1
                break
            }
        }
        guard column == 16 || column == 18 || column == 21 else { return .malformed(.columnCount) }
        guard Self.equals(line, dst, hotline) else { return .skipped }
        guard start.end - start.start == 19,
              let wall = Timestamp.parseCDR(UnsafeRawBufferPointer(rebasing: line[start.start..<start.end]), days: &days)
        else { return .malformed(.badTimestamp) }
        let utc = zone.utc(local: wall)
        return .event(Event(kind: .call, millis: utc * 1000, answered: Self.equals(line, disposition, "ANSWERED")))
    }

    /// The index of the first `byte` in `base[from..<to]`. Fields are short, so eight bytes at
    /// a time in registers (the SWAR zero-byte test) beat a call to `memchr` per field.
    @inline(__always)
    static func find(_ byte: UInt8, _ base: UnsafeRawPointer, from: Int, to n: Int) -> Int? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let pattern = ones &* UInt64(byte)
        var i = from
        while i + 8 <= n {
            let x = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) ^ pattern
            let zero = (x &- ones) & ~x & (ones &* 0x80)
            if zero != 0 { return i + zero.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < n {
            if base.load(fromByteOffset: i, as: UInt8.self) == byte { return i }
            i += 1
        }
        return nil
    }

    @inline(__always)
    static func equals(_ line: UnsafeRawBufferPointer, _ field: Field, _ target: StaticString) -> Bool {
        equals(line, field, UnsafeRawBufferPointer(start: target.utf8Start, count: target.utf8CodeUnitCount))
    }

    @inline(__always)
    static func equals(_ line: UnsafeRawBufferPointer, _ field: Field, _ target: [UInt8]) -> Bool {
        target.withUnsafeBytes { equals(line, field, $0) }
    }

    /// Compares a field's content (doubled quotes collapsed) with `target`.
    @inline(__always)
    static func equals(_ line: UnsafeRawBufferPointer, _ field: Field, _ target: UnsafeRawBufferPointer) -> Bool {
        if !field.escaped {
            guard field.end - field.start == target.count else { return false }
            var k = 0
            while k < target.count {
                if line[field.start + k] != target[k] { return false }
                k += 1
            }
            return true
        }
        var k = 0, i = field.start
        while i < field.end {
            guard k < target.count, line[i] == target[k] else { return false }
            i += line[i] == quote ? 2 : 1
            k += 1
        }
        return k == target.count
    }
}
