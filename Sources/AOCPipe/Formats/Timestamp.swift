/// Byte-level timestamp parsing: no Foundation, no allocation.
public enum Timestamp {
    @inline(__always)
    static func digit(_ p: UnsafeRawBufferPointer, _ i: Int) -> Int {
        Int(p[i]) &- 48
    }

    @inline(__always)
    static func twoDigits(_ p: UnsafeRawBufferPointer, _ i: Int) -> Int? {
        let a = digit(p, i), b = digit(p, i + 1)
        guard a >= 0, a <= 9, b >= 0, b <= 9 else { return nil }
        return a * 10 + b
    }

    /// Parses `YYYY-MM-DD?HH:MM:SS` at `p[0..<19]` (any single separator at index 10) into
    /// wall-clock seconds since the epoch, as if the wall clock were UTC.
    @inline(__always)
    public static func parseLocalDateTime(_ p: UnsafeRawBufferPointer) -> Int? {
        guard p.count >= 19,
              p[4] == UInt8(ascii: "-"), p[7] == UInt8(ascii: "-"),
              p[13] == UInt8(ascii: ":"), p[16] == UInt8(ascii: ":"),
              let y1 = twoDigits(p, 0), let y2 = twoDigits(p, 2),
              let month = twoDigits(p, 5), let day = twoDigits(p, 8),
              let hour = twoDigits(p, 11), let minute = twoDigits(p, 14), let second = twoDigits(p, 17)
        else { return nil }
        let year = y1 * 100 + y2
        guard month >= 1, month <= 12, day >= 1, day <= CivilTime.daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 60
        else { return nil }
        return CivilTime.epochSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// Parses an Asterisk CDR date (`YYYY-MM-DD HH:MM:SS`, exactly 19 bytes).
    @inline(__always)
    public static func parseCDR(_ p: UnsafeRawBufferPointer) -> Int? {
        guard p.count == 19, p[10] == UInt8(ascii: " ") || p[10] == UInt8(ascii: "T") else { return nil }
        return parseLocalDateTime(p)
    }

    /// Parses RFC 3339 (`2023-11-01T08:27:45.120+07:00`, `...Z`) into UTC milliseconds.
    /// Fractions beyond milliseconds are truncated.
    public static func parseRFC3339Millis(_ p: UnsafeRawBufferPointer) -> Int? {
        guard p.count >= 20 else { return nil }
        let sep = p[10]
        guard sep == UInt8(ascii: "T") || sep == UInt8(ascii: "t") || sep == UInt8(ascii: " "),
              let wall = parseLocalDateTime(p)
        else { return nil }
        var i = 19
        var millis = 0
        if p[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < p.count, p[i] >= 48, p[i] <= 57 {
                if digits < 3 { millis = millis * 10 + Int(p[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            if digits == 1 { millis *= 100 } else if digits == 2 { millis *= 10 }
        }
        guard i < p.count else { return nil }
        let z = p[i]
        var offset = 0
        if z == UInt8(ascii: "Z") || z == UInt8(ascii: "z") {
            i += 1
        } else if z == UInt8(ascii: "+") || z == UInt8(ascii: "-") {
            guard i + 6 <= p.count, p[i + 3] == UInt8(ascii: ":"),
                  let oh = twoDigits(p, i + 1), let om = twoDigits(p, i + 4), oh <= 23, om <= 59
            else { return nil }
            offset = (oh * 3600 + om * 60) * (z == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == p.count else { return nil }
        return (wall - offset) * 1000 + millis
    }
}
