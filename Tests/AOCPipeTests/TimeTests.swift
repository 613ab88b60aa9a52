import Testing
@testable import AOCPipe

@Suite struct TimeTests {
    @Test func civilDatesRoundTrip() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            let (y, m, d) = CivilTime.civilFromDays(days)
            #expect(CivilTime.daysFromCivil(year: y, month: m, day: d) == days)
        }
        #expect(CivilTime.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilTime.daysFromCivil(year: 2023, month: 11, day: 1) == 19662)
        #expect(CivilTime.daysFromCivil(year: 2000, month: 3, day: 1) - CivilTime.daysFromCivil(year: 2000, month: 2, day: 28) == 2)
    }

    @Test func floorDivisionOfNegatives() {
        #expect(CivilTime.floorDiv(-1, 3600) == -1)
        #expect(CivilTime.floorMod(-1, 3600) == 3599)
        #expect(CivilTime.floorDiv(7200, 3600) == 2)
    }

    @Test func bangkokHasOneOffset() {
        #expect(bangkok.offset(utc: 1_698_800_000) == 7 * 3600)
        // 2023-11-01 08:15:02 local = 01:15:02 UTC.
        let local = CivilTime.epochSeconds(year: 2023, month: 11, day: 1, hour: 8, minute: 15, second: 2)
        #expect(bangkok.utc(local: local) == 1_698_801_302)
    }

    @Test func newYorkTransitions() throws {
        let ny = try #require(Zone(identifier: "America/New_York"))
        // 2023-11-05 01:30 local happens twice; the earlier instant (EDT, -4) is chosen.
        let overlap = CivilTime.epochSeconds(year: 2023, month: 11, day: 5, hour: 1, minute: 30, second: 0)
        #expect(ny.utc(local: overlap) == overlap + 4 * 3600)
        // 2023-03-12 02:30 local does not exist; the pre-transition offset (EST, -5) applies.
        let gap = CivilTime.epochSeconds(year: 2023, month: 3, day: 12, hour: 2, minute: 30, second: 0)
        #expect(ny.utc(local: gap) == gap + 5 * 3600)
        let summer = CivilTime.epochSeconds(year: 2023, month: 7, day: 1, hour: 12, minute: 0, second: 0)
        #expect(ny.offset(utc: summer) == -4 * 3600)
        #expect(ny.offset(utc: summer + 180 * 86_400) == -5 * 3600)
    }

    @Test func cursorAgreesWithBinarySearch() throws {
        let ny = try #require(Zone(identifier: "America/New_York"))
        var cursor = Zone.Cursor(zone: ny)
        var t = CivilTime.epochSeconds(year: 2020, month: 1, day: 1, hour: 0, minute: 0, second: 0)
        for _ in 0..<5000 {
            #expect(cursor.offset(utc: t) == ny.offset(utc: t))
            t += 7919 * 3
        }
    }

    @Test func timestampsFromBytes() {
        func cdr(_ s: String) -> Int? { var b = Array(s.utf8); return b.withUnsafeMutableBytes { Timestamp.parseCDR(UnsafeRawBufferPointer($0)) } }
        func rfc(_ s: String) -> Int? { var b = Array(s.utf8); return b.withUnsafeMutableBytes { Timestamp.parseRFC3339Millis(UnsafeRawBufferPointer($0)) } }
        #expect(cdr("2023-11-01 08:15:02") == CivilTime.epochSeconds(year: 2023, month: 11, day: 1, hour: 8, minute: 15, second: 2))
        #expect(cdr("2023-02-29 08:15:02") == nil)
        #expect(cdr("2023-11-01 24:00:00") == nil)
        #expect(cdr("2023-11-01 08:15") == nil)
        #expect(cdr("2023-1x-01 08:15:02") == nil)
        let base = 1_698_802_065_000  // 2023-11-01T01:27:45Z
        #expect(rfc("2023-11-01T08:27:45+07:00") == base)
        #expect(rfc("2023-11-01T01:27:45Z") == base)
        #expect(rfc("2023-11-01T01:27:45z") == base)
        #expect(rfc("2023-11-01T08:27:45.120+07:00") == base + 120)
        #expect(rfc("2023-11-01T08:27:45.1+07:00") == base + 100)
        #expect(rfc("2023-11-01T08:27:45.123456789+07:00") == base + 123)
        #expect(rfc("2023-11-01T07:12:45+05:45") == base)
        #expect(rfc("2023-10-31T20:27:45-05:00") == base)
        #expect(rfc("2023-11-01T08:27:45") == nil)
        #expect(rfc("2023-11-01T08:27:45+07") == nil)
        #expect(rfc("2023-11-01T08:27:45.+07:00") == nil)
        #expect(rfc("2023-11-01T08:27:45Zjunk") == nil)
    }

    @Test func durations() {
        #expect(Duration.parseMillis("250ms") == 250)
        #expect(Duration.parseMillis("15m") == 900_000)
        #expect(Duration.parseMillis("1h30m") == 5_400_000)
        #expect(Duration.parseMillis("90d") == 7_776_000_000)
        #expect(Duration.parseMillis("15") == nil)
        #expect(Duration.parseMillis("m") == nil)
        #expect(Duration.parseMillis("5 minutes") == nil)
    }
}
