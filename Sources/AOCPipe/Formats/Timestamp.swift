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

    /// Parses an Asterisk CDR date (`YYYY-MM-DD HH:MM:SS`, exactly 19 bytes).
    public static func parseCDR(_ p: UnsafeRawBufferPointer) -> Int? {
        var days = DayCache()
        return parseCDR(p, days: &days)
    }

    /// `parseCDR` with the date through `days` (most lines share the one before's) and the
    /// clock parsed in one word.
    @inline(__always)
    static func parseCDR(_ p: UnsafeRawBufferPointer, days: inout DayCache) -> Int? {
        guard p.count == 19, p[10] == UInt8(ascii: " ") || p[10] == UInt8(ascii: "T"),
              let day = days.day(p.baseAddress!), let clock = clockSeconds(p.baseAddress! + 11)
        else { return nil }
        return day * 86_400 + clock
    }

    /// Parses RFC 3339 (`2023-11-01T08:27:45.120+07:00`, `...Z`) into UTC milliseconds.
    /// Fractions beyond milliseconds are truncated.
    public static func parseRFC3339Millis(_ p: UnsafeRawBufferPointer) -> Int? {
        var days = DayCache()
        guard let (millis, end) = parseRFC3339Millis(p, from: 0, days: &days), end == p.count else { return nil }
        return millis
    }

    /// Parses the RFC 3339 timestamp that starts at `p[start]` and says where it ends (the
    /// caller checks what follows). Dates go through `days`: a log's events come in time
    /// order, so most share their date with the one before and only the clock is parsed,
    /// eight bytes at once.
    @inline(__always)
    static func parseRFC3339Millis(_ p: UnsafeRawBufferPointer, from start: Int, days: inout DayCache) -> (millis: Int, end: Int)? {
        guard start + 20 <= p.count else { return nil }
        let base = p.baseAddress! + start
        let sep = base.load(fromByteOffset: 10, as: UInt8.self)
        guard sep == UInt8(ascii: "T") || sep == UInt8(ascii: "t") || sep == UInt8(ascii: " "),
              let day = days.day(base), let clock = clockSeconds(base + 11)
        else { return nil }
        var i = start + 19
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
        return ((day * 86_400 + clock - offset) * 1000 + millis, i)
    }

    /// `HH:MM:SS` (8 bytes at `p`) as seconds of the day, or nil. One word: XOR with
    /// `00:00:00` leaves each digit's value in its byte and zero in the colons, then one test
    /// says whether every byte is at most 9 (the SWAR "byte > n" test).
    @inline(__always)
    static func clockSeconds(_ p: UnsafeRawPointer) -> Int? {
        let x = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)) ^ 0x3030_3A30_303A_3030
        let highs: UInt64 = 0x8080_8080_8080_8080
        guard (((x & ~highs) &+ 0x7676_7676_7676_7676) | x) & highs == 0,
              x & 0x0000_FF00_00FF_0000 == 0
        else { return nil }
        @inline(__always) func byte(_ k: UInt64) -> Int { Int(truncatingIfNeeded: (x >> (8 * k)) & 0xFF) }
        let hour = byte(0) * 10 + byte(1), minute = byte(3) * 10 + byte(4), second = byte(6) * 10 + byte(7)
        guard hour <= 23, minute <= 59, second <= 60 else { return nil }
        return hour * 3600 + minute * 60 + second
    }
}

/// The last date parsed (`YYYY-MM-DD`, as bytes) and its day number since the epoch.
struct DayCache {
    private var head: UInt64 = 0
    private var tail: UInt16 = 0
    private var days = 0
    private var filled = false

    init() {}

    /// The day number of the date at `p[0..<10]`, or nil when it is not a valid date.
    @inline(__always)
    mutating func day(_ p: UnsafeRawPointer) -> Int? {
        let h = p.loadUnaligned(as: UInt64.self), t = p.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
        if filled && h == head && t == tail { return days }
        let date = UnsafeRawBufferPointer(start: p, count: 10)
        guard date[4] == UInt8(ascii: "-"), date[7] == UInt8(ascii: "-"),
              let y1 = Timestamp.twoDigits(date, 0), let y2 = Timestamp.twoDigits(date, 2),
              let month = Timestamp.twoDigits(date, 5), let day = Timestamp.twoDigits(date, 8)
        else { return nil }
        let year = y1 * 100 + y2
        guard month >= 1, month <= 12, day >= 1, day <= CivilTime.daysInMonth(year: year, month: month) else { return nil }
        days = CivilTime.daysFromCivil(year: year, month: month, day: day)
        head = h
        tail = t
        filled = true
        return days
    }
}
