import Foundation

/// A time zone as a sorted table of UTC ranges with a constant offset, built once from tzdata.
///
/// Lookups never touch Foundation: a `Zone.Cursor` caches the range of the last lookup, so a
/// run of records in one range costs two comparisons each.
public struct Zone: Sendable, Equatable {
    public let identifier: String
    /// UTC seconds at which each range starts; `starts[0]` is `Int.min`.
    let starts: [Int]
    /// Offset from UTC in seconds for each range.
    let offsets: [Int]

    /// The years covered by the transition table; outside, the nearest range's offset applies.
    static let firstYear = 1900
    static let lastYear = 2200

    public init?(identifier: String) {
        guard let tz = TimeZone(identifier: identifier) else { return nil }
        self.identifier = identifier
        var starts = [Int.min]
        var offsets: [Int] = []
        let begin = Date(timeIntervalSince1970: TimeInterval(CivilTime.epochSeconds(
            year: Zone.firstYear, month: 1, day: 1, hour: 0, minute: 0, second: 0)))
        let end = Date(timeIntervalSince1970: TimeInterval(CivilTime.epochSeconds(
            year: Zone.lastYear, month: 1, day: 1, hour: 0, minute: 0, second: 0)))
        offsets.append(tz.secondsFromGMT(for: begin))
        var cursor = begin
        while let next = tz.nextDaylightSavingTimeTransition(after: cursor), next < end {
            let offset = tz.secondsFromGMT(for: next)
            if offset != offsets.last {
                starts.append(Int(next.timeIntervalSince1970.rounded()))
                offsets.append(offset)
            }
            cursor = next
        }
        self.starts = starts
        self.offsets = offsets
    }

    /// A zone with one fixed offset (tests, `+05:45`-style settings).
    public init(fixedOffsetSeconds: Int, identifier: String? = nil) {
        self.identifier = identifier ?? Zone.formatOffset(fixedOffsetSeconds)
        self.starts = [Int.min]
        self.offsets = [fixedOffsetSeconds]
    }

    public static let utc = Zone(fixedOffsetSeconds: 0, identifier: "UTC")

    /// Index of the range holding `utc`.
    @inline(__always)
    func rangeIndex(utc: Int) -> Int {
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) >> 1
            if starts[mid] <= utc { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    public func offset(utc: Int) -> Int { offsets[rangeIndex(utc: utc)] }

    /// UTC seconds for a local wall-clock time. In a gap (spring forward) the pre-transition
    /// offset applies; in an overlap (fall back) the earlier instant is chosen.
    public func utc(local: Int) -> Int {
        var cursor = Cursor(zone: self)
        return cursor.utc(local: local)
    }

    /// Whether `identifier` is Foundation's own offset syntax (`UTC+7`, `GMT+07:00`), which
    /// `TimeZone` accepts but is no IANA name: pipelines refuse it.
    public static func isOffsetSyntax(_ identifier: String) -> Bool {
        let b = Array(identifier.utf8)
        guard b.count > 3 else { return false }
        let head = String(decoding: b[0..<3], as: UTF8.self)
        return (head == "UTC" || head == "GMT") && (b[3] == UInt8(ascii: "+") || b[3] == UInt8(ascii: "-"))
    }

    /// For `Etc/GMT+N` (N not 0): what it means, since tzdata's POSIX sign is the opposite of
    /// ISO 8601's (`Etc/GMT+7` is UTC-07:00, not Bangkok's +07:00).
    public var signWarning: String? {
        guard identifier.hasPrefix("Etc/GMT+") || identifier.hasPrefix("Etc/GMT-"), offsets.count == 1, offsets[0] != 0 else { return nil }
        return "time zone \(identifier) is UTC\(Zone.formatOffset(offsets[0])) (POSIX sign: Etc/GMT+N is N hours behind UTC); "
            + "for a place, write its name (Asia/Bangkok is +07:00)"
    }

    /// "+07:00"-style rendering of an offset.
    public static func formatOffset(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let a = abs(seconds)
        let h = a / 3600, m = (a % 3600) / 60
        return sign + (h < 10 ? "0" : "") + String(h) + ":" + (m < 10 ? "0" : "") + String(m)
    }

    /// Per-worker lookup state: remembers the last range. Not shared between threads.
    public struct Cursor: Sendable {
        public let zone: Zone
        var low: Int
        var high: Int
        var offset: Int

        public init(zone: Zone) {
            self.zone = zone
            low = Int.max; high = Int.min; offset = 0
        }

        @inline(__always)
        public mutating func offset(utc: Int) -> Int {
            if utc >= low && utc < high { return offset }
            let i = zone.rangeIndex(utc: utc)
            low = zone.starts[i]
            high = i + 1 < zone.starts.count ? zone.starts[i + 1] : Int.max
            offset = zone.offsets[i]
            return offset
        }

        /// The local hour holding the instant `utc` (UTC seconds): when it starts, and the
        /// instants `low..<high` that share both that hour and its offset, for which a caller
        /// may keep the answer (an hour cut by a transition ends early).
        @inline(__always)
        mutating func hour(containing utc: Int) -> (start: Int, low: Int, high: Int) {
            let offset = offset(utc: utc)
            let local = utc + offset
            let start = local - CivilTime.floorMod(local, 3600) - offset
            return (start, max(start, low), min(start + 3600, high))
        }

        @inline(__always)
        public mutating func utc(local: Int) -> Int {
            // Try the offset in force just before this local time, then the one after.
            let early = offset(utc: local - 50_400)
            let late = offset(utc: local + 50_400)
            if early == late { return local - early }
            let a = local - early
            if offset(utc: a) == early { return a }   // earlier instant (overlap) or before gap
            let b = local - late
            if offset(utc: b) == late { return b }
            return a                                    // in a gap: pre-transition offset
        }
    }
}
