#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses Asterisk `cdr_csv` lines (docs/FORMATS.md, "Asterisk CDR") in place.
///
/// Fields may be quoted (RFC 4180, `""` for a quote) or bare. A line is judged by its column
/// count (16, 18 or 21) and the fields read: `dst`, `dcontext` and `channel` (is it the
/// hotline's?), `start`, `disposition` and `dstchannel` (answered by an agent?), and the call's
/// key, `linkedid` or `uniqueid` (`CallRules`), hashed: the lines of one call share it.
public struct AsteriskCDRParser: LineParser {
    static let quote = UInt8(ascii: "\"")
    static let comma = UInt8(ascii: ",")

    /// Column indexes, identical in the 16-, 18- and 21-column layouts; `uniqueid` exists from
    /// 18 columns on, `linkedid` in 21.
    static let dstColumn = 2, contextColumn = 3, channelColumn = 5, dstChannelColumn = 6,
               startColumn = 9, dispositionColumn = 14, uniqueidColumn = 16, linkedidColumn = 19

    let hotline: [[UInt8]]
    let contexts: [[UInt8]]
    let trunks: [[UInt8]]
    let notAgents: [[UInt8]]
    let key: CallRules.Key
    let bridged: Bool
    /// Every well-formed line is an event (`anyRecord`), the hotline's or not.
    private var everyLine = false
    var zone: Zone.Cursor
    /// The last date parsed: calls come in time order, most share it.
    private var days = DayCache()

    public init(rules: CallRules = CallRules(), sourceZone: Zone) {
        hotline = rules.hotline.map { Array($0.utf8) }
        contexts = rules.contexts.map { Array($0.utf8) }
        trunks = rules.trunks.map { Array($0.utf8) }
        notAgents = rules.notAgents.map { Array($0.utf8) }
        key = rules.key
        bridged = rules.answered == .bridged
        zone = Zone.Cursor(zone: sourceZone)
    }

    public var anyRecord: AsteriskCDRParser {
        var p = self
        p.everyLine = true
        return p
    }

    public init(hotline: String, sourceZone: Zone) {
        self.init(rules: CallRules(hotline: [hotline]), sourceZone: sourceZone)
    }

    /// A field's content: a byte range of the line, and whether it holds doubled quotes.
    struct Field {
        var start = 0, end = 0
        var escaped = false
        var isEmpty: Bool { end == start }
    }

    public mutating func parse(_ line: UnsafeRawBufferPointer) -> ParseOutcome {
        // Each field's bounds go to a small stack buffer by column (one store each, whatever
        // the column), read by index once the line is split.
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * Self.maxColumns) { bounds in
            parse(line, bounds: bounds.baseAddress!)
        }
    }

    static let maxColumns = 21

    @inline(__always)
    private mutating func parse(_ line: UnsafeRawBufferPointer, bounds: UnsafeMutablePointer<Int32>) -> ParseOutcome {
        guard let base = line.baseAddress, line.count > 0 else { return .malformed(.columnCount) }
        let n = line.count
        var column = 0
        var i = 0
        var escaped: UInt32 = 0  // bit c: field c holds doubled quotes
        while true {
            var fieldStart: Int, fieldEnd: Int
            if i < n && line[i] == Self.quote {
                // Quoted: the field ends at a quote not followed by another quote.
                var j = i + 1
                while true {
                    guard j < n, let k = Self.find(Self.quote, base, from: j, to: n) else {
                        return .malformed(.badQuoting)
                    }
                    if k + 1 < n && line[k + 1] == Self.quote {
                        escaped |= 1 << UInt32(min(column, 31))
                        j = k + 2
                        continue
                    }
                    fieldStart = i + 1
                    fieldEnd = k
                    i = k + 1
                    break
                }
                if i < n && line[i] != Self.comma { return .malformed(.badQuoting) }
            } else {
                let end = Self.find(Self.comma, base, from: i, to: n) ?? n
                fieldStart = i
                fieldEnd = end
                i = end
            }
            if column < Self.maxColumns {
                bounds[2 * column] = Int32(truncatingIfNeeded: fieldStart)
                bounds[2 * column + 1] = Int32(truncatingIfNeeded: fieldEnd)
            }
            column += 1
            if i >= n { break }
            i += 1  // the comma
            if i == n {  // a trailing comma opens one last, empty field
                if column < Self.maxColumns { bounds[2 * column] = Int32(n); bounds[2 * column + 1] = Int32(n) }
                column += 1
                break
            }
        }
        guard column == 16 || column == 18 || column == 21 else { return .malformed(.columnCount) }
        @inline(__always) func field(_ c: Int) -> Field {
            Field(start: Int(bounds[2 * c]), end: Int(bounds[2 * c + 1]), escaped: escaped >> UInt32(c) & 1 != 0)
        }
        if !everyLine {
            guard Self.matches(line, field(Self.dstColumn), any: hotline) else { return .skipped }
            if !contexts.isEmpty && !Self.matches(line, field(Self.contextColumn), any: contexts) { return .skipped }
            if !trunks.isEmpty && !Self.matches(line, field(Self.channelColumn), anyPrefix: trunks) { return .skipped }
        }
        let start = field(Self.startColumn)
        guard start.end - start.start == 19,
              let wall = Timestamp.parseCDR(UnsafeRawBufferPointer(rebasing: line[start.start..<start.end]), days: &days)
        else { return .malformed(.badTimestamp) }
        let utc = zone.utc(local: wall)
        var answered = Self.equals(line, field(Self.dispositionColumn), "ANSWERED")
        if answered && bridged {
            let dstChannel = field(Self.dstChannelColumn)
            answered = !dstChannel.isEmpty && !(!notAgents.isEmpty && Self.matches(line, dstChannel, anyPrefix: notAgents))
        }
        // The call's key: linkedid where the layout has it (and it is asked for), else uniqueid;
        // none (0) when the layout has neither or the field is empty: the line is a call of its own.
        var keyField = Field()
        if key == .linkedid && column == 21 && !field(Self.linkedidColumn).isEmpty {
            keyField = field(Self.linkedidColumn)
        } else if key != .line && column >= 18 {
            keyField = field(Self.uniqueidColumn)
        }
        let callKey = keyField.isEmpty ? 0 : CallKeyHash.of(UnsafeRawBufferPointer(rebasing: line[keyField.start..<keyField.end]))
        return .event(Event(kind: .call, millis: utc * 1000, answered: answered, callKey: callKey))
    }

    /// Whether a field equals one of `targets`.
    @inline(__always)
    static func matches(_ line: UnsafeRawBufferPointer, _ field: Field, any targets: [[UInt8]]) -> Bool {
        for t in targets where equals(line, field, t) { return true }
        return false
    }

    /// Whether a field starts with one of `prefixes`.
    @inline(__always)
    static func matches(_ line: UnsafeRawBufferPointer, _ field: Field, anyPrefix prefixes: [[UInt8]]) -> Bool {
        for p in prefixes where p.withUnsafeBytes({ compare(line, field, $0, prefix: true) }) { return true }
        return false
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

    @inline(__always)
    static func equals(_ line: UnsafeRawBufferPointer, _ field: Field, _ target: UnsafeRawBufferPointer) -> Bool {
        compare(line, field, target, prefix: false)
    }

    /// Compares a field's content (doubled quotes collapsed) with `target`, or only its start
    /// (`prefix`).
    @inline(__always)
    static func compare(_ line: UnsafeRawBufferPointer, _ field: Field, _ target: UnsafeRawBufferPointer, prefix: Bool) -> Bool {
        if !field.escaped {
            let length = field.end - field.start
            guard prefix ? length >= target.count : length == target.count else { return false }
            var k = 0
            while k < target.count {
                if line[field.start + k] != target[k] { return false }
                k += 1
            }
            return true
        }
        var k = 0, i = field.start
        while i < field.end {
            if prefix && k == target.count { return true }
            guard k < target.count, line[i] == target[k] else { return false }
            i += line[i] == quote ? 2 : 1
            k += 1
        }
        return k == target.count
    }
}
