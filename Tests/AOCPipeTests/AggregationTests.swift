import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

@Suite struct AggregationTests {
    static func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int = 0, _ s: Int = 0) -> Int {
        CivilTime.epochSeconds(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
    }

    static func call(_ second: Int, answered: Bool = true) -> Event {
        Event(kind: .call, millis: second * 1000, answered: answered)
    }

    static func report(_ events: [Event], zone: Zone, sla: Int = 900_000) -> Report {
        var a = PartialAggregate(reportZone: zone)
        for e in events { a.add(e) }
        return Report(pipeline: "t", zone: zone, aggregate: a, input: InputStats(), sources: [], slaMillis: sla,
                      latenessMillis: 7_200_000)
    }

    @Test func daysFollowTheReportZone() {
        // 16:59:59 UTC is 23:59:59 in Bangkok; 17:00:00 UTC is the next Bangkok day.
        let r = Self.report([Self.call(Self.utc(2023, 11, 1, 16, 59, 59)), Self.call(Self.utc(2023, 11, 1, 17))], zone: bangkok)
        #expect(r.days.map { Text.localDate($0.start, offset: $0.startOffset) } == ["2023-11-01", "2023-11-02"])
        #expect(r.days.map(\.counters.calls) == [1, 1])
        #expect(Text.localTimestamp(r.hours[1].start, offset: r.hours[1].startOffset) == "2023-11-02T00:00:00+07:00")
    }

    @Test func dstFallBackDayHas25Hours() throws {
        let ny = try #require(Zone(identifier: "America/New_York"))
        // One call in every UTC hour across 2023-11-05 (New York falls back at 06:00 UTC).
        var events: [Event] = []
        for h in 0..<48 { events.append(Self.call(Self.utc(2023, 11, 5, 0) + h * 3600 + 60)) }
        let r = Self.report(events, zone: ny)
        let nov5 = try #require(r.days.first { Text.localDate($0.start, offset: $0.startOffset) == "2023-11-05" })
        #expect(nov5.end - nov5.start == 25 * 3600)
        #expect(nov5.counters.calls == 25)
        #expect(Text.localTimestamp(nov5.start, offset: nov5.startOffset) == "2023-11-05T00:00:00-04:00")
        #expect(Text.localTimestamp(nov5.end, offset: nov5.endOffset) == "2023-11-06T00:00:00-05:00")
        // The repeated 01:00 local hour is two windows, at two offsets.
        let ones = r.hours.filter { Text.localTimestamp($0.start, offset: $0.startOffset).contains("2023-11-05T01:00:00") }
        #expect(ones.count == 2)
        #expect(r.hours.count == 48)
        #expect(r.totals.counters.calls == 48)
    }

    @Test func springForwardDayHas23Hours() throws {
        let ny = try #require(Zone(identifier: "America/New_York"))
        var events: [Event] = []
        for h in 0..<48 { events.append(Self.call(Self.utc(2023, 3, 12, 0) + h * 3600 + 60)) }
        let r = Self.report(events, zone: ny)
        let day = try #require(r.days.first { Text.localDate($0.start, offset: $0.startOffset) == "2023-03-12" })
        #expect(day.end - day.start == 23 * 3600)
        #expect(day.counters.calls == 23)
    }

    @Test func kathmanduHoursStartAtQuarterPast() throws {
        let ktm = try #require(Zone(identifier: "Asia/Kathmandu"))
        // 10:14 and 10:16 UTC are 15:59 and 16:01 in Kathmandu (+05:45): two hours.
        let r = Self.report([Self.call(Self.utc(2023, 11, 1, 10, 14)), Self.call(Self.utc(2023, 11, 1, 10, 16))], zone: ktm)
        #expect(r.hours.map { Text.localTimestamp($0.start, offset: $0.startOffset) }
            == ["2023-11-01T15:00:00+05:45", "2023-11-01T16:00:00+05:45"])
        // 18:14 UTC is 23:59 local, 18:16 UTC is 00:01 the next local day.
        let d = Self.report([Self.call(Self.utc(2023, 11, 1, 18, 14)), Self.call(Self.utc(2023, 11, 1, 18, 16))], zone: ktm)
        #expect(d.days.map { Text.localDate($0.start, offset: $0.startOffset) } == ["2023-11-01", "2023-11-02"])
        let kolkata = try #require(Zone(identifier: "Asia/Kolkata"))
        let k = Self.report([Self.call(Self.utc(2023, 11, 1, 10, 29)), Self.call(Self.utc(2023, 11, 1, 10, 31))], zone: kolkata)
        #expect(k.hours.map { Text.localTimestamp($0.start, offset: $0.startOffset) }
            == ["2023-11-01T15:00:00+05:30", "2023-11-01T16:00:00+05:30"])
    }

    @Test func utcSourceReportedInBangkok() {
        // A CDR server on UTC writes 17:30 on 1 Nov: that call counts on 2 Nov in Bangkok.
        var parser = AsteriskCDRParser(hotline: "1441", sourceZone: .utc)
        let line = AsteriskCDRParserTests.example.replacingOccurrences(of: "2023-11-01 08:15:02", with: "2023-11-01 17:30:00")
        guard case .event(let e) = parse(&parser, line) else { Issue.record("not parsed"); return }
        let r = Self.report([e], zone: bangkok)
        #expect(r.days.map { Text.localDate($0.start, offset: $0.startOffset) } == ["2023-11-02"])
        #expect(Text.localTimestamp(r.hours[0].start, offset: r.hours[0].startOffset) == "2023-11-02T00:00:00+07:00")
    }

    static func freeze(_ kind: Event.Kind, _ caseID: String, _ second: Int) -> Event {
        Event(kind: kind, millis: second * 1000, caseKey: CaseKey(caseID))
    }

    @Test func latencyJoinInBothOrdersAndAcrossWorkers() {
        let t0 = Self.utc(2023, 11, 1, 2)
        let reported = Self.freeze(.reported, "C1", t0)
        let frozenA = Self.freeze(.frozen, "C1", t0 + 600)     // 10 min
        let frozenB = Self.freeze(.frozen, "C1", t0 + 1800)    // 30 min
        let orphan = Self.freeze(.frozen, "C2", t0 + 60)       // no report
        for order in [[reported, frozenA, frozenB, orphan], [frozenB, orphan, frozenA, reported]] {
            let r = Self.report(order, zone: bangkok)
            #expect(r.totals.freeze.count == 2)
            #expect(r.totals.freeze.meanMinutes == 20)
            #expect(r.totals.freeze.maxMinutes == 30)
            #expect(r.totals.freeze.withinSLA == 0.5)
            #expect(r.totals.counters.accountsFrozen == 3)
            #expect(r.input.unmatched == 1)
        }
        // The report in one worker's partial, the freezes in another's (different files).
        var w1 = PartialAggregate(reportZone: bangkok), w2 = PartialAggregate(reportZone: bangkok)
        w2.add(frozenA); w2.add(frozenB)
        w1.add(reported)
        for (first, second) in [(w1, w2), (w2, w1)] {
            var merged = first
            merged.merge(second)
            let r = Report(pipeline: "t", zone: bangkok, aggregate: merged, input: InputStats(), sources: [],
                           slaMillis: 900_000, latenessMillis: 0)
            #expect(r.totals.freeze.count == 2)
            #expect(r.totals.freeze.meanMinutes == 20)
        }
    }

    @Test func latencyCountsInTheFrozenEventsWindow() {
        // Reported at 23:50 on 1 Nov, frozen at 00:05 on 2 Nov (Bangkok): 15 min, on 2 Nov.
        let reported = Self.utc(2023, 11, 1, 16, 50)
        let r = Self.report([Self.freeze(.reported, "C", reported), Self.freeze(.frozen, "C", reported + 900)], zone: bangkok)
        #expect(r.days.map(\.counters.casesReported) == [1, 0])
        #expect(r.days.map(\.counters.accountsFrozen) == [0, 1])
        #expect(r.days.map(\.freeze.count) == [0, 1])
        #expect(r.days[1].freeze.meanMinutes == 15)
        #expect(r.days[1].freeze.withinSLA == 1)
    }

    @Test func percentilesAgainstHandComputedValues() {
        // Latencies 1..100 minutes: nearest-rank p50 = 50, p90 = 90, p99 = 99, mean 50.5.
        let latencies = (1...100).map { $0 * 60_000 }.shuffled()
        let s = FreezeStats(latencies: latencies, slaMillis: 15 * 60_000)
        #expect(s.count == 100)
        #expect(s.meanMinutes == 50.5)
        #expect(s.p50Minutes == 50)
        #expect(s.p90Minutes == 90)
        #expect(s.p99Minutes == 99)
        #expect(s.maxMinutes == 100)
        #expect(s.withinSLA == 0.15)
        let none: [Int] = []
        #expect(FreezeStats(latencies: none, slaMillis: 1).count == 0)
    }

    @Test func countersByKind() {
        let t = Self.utc(2023, 11, 1, 3)
        let r = Self.report([Self.call(t), Self.call(t, answered: false), Self.freeze(.reported, "C", t),
                             Self.freeze(.freezeRequested, "C", t), Self.freeze(.freezeFailed, "C", t)], zone: bangkok)
        let c = r.totals.counters
        #expect((c.calls, c.callsAnswered, c.callsUnanswered, c.casesReported, c.freezeRequests, c.freezesFailed) == (2, 1, 1, 1, 1, 1))
    }

    @Test func rollingWindowsEndAtTheWatermark() throws {
        // Watermark 2023-11-02 10:30:20 Bangkok (03:30:20 UTC).
        let wm = Self.utc(2023, 11, 2, 3, 30, 20)
        var a = PartialAggregate(reportZone: bangkok, tracksMinutes: true)
        for offset in [0, 59 * 60, 60 * 60 + 21, 3 * 3600, 23 * 3600, 24 * 3600 + 40, 30 * 3600] {
            a.add(Self.call(wm - offset))
        }
        a.add(Self.freeze(.reported, "C", wm - 20 * 60))
        a.add(Self.freeze(.frozen, "C", wm - 10 * 60))
        let r = Report(pipeline: "t", zone: bangkok, aggregate: a, input: InputStats(), sources: [],
                       slaMillis: 900_000, latenessMillis: 0)
        let rolling = Dictionary(uniqueKeysWithValues: r.rolling.map { ($0.name, $0.window) })
        // The last 60 whole minutes through the watermark's: 09:31:00 to 10:31:00.
        let hour = try #require(rolling["last_60m"])
        #expect(Text.localTimestamp(hour.start, offset: hour.startOffset) == "2023-11-02T09:31:00+07:00")
        #expect(hour.counters.calls == 2)       // now and 59 min ago; 60 min 21 s ago is out
        #expect(hour.counters.accountsFrozen == 1)
        #expect(hour.freeze.meanMinutes == 10)
        #expect(try #require(rolling["last_24h"]).counters.calls == 5)
        #expect(try #require(rolling["today"]).counters.calls == 4)  // since 00:00 on 2 Nov
        #expect(Renderer.json(r).contains("\"last_60m\": {\"start\":\"2023-11-02T09:31:00+07:00\""))
        // Batch tracks no minutes and has no rolling windows.
        #expect(Self.report([Self.call(wm)], zone: bangkok).rolling.isEmpty)
    }

    @Test func caseTableAgreesWithADictionary() {
        var rng = SeededRandom(seed: 42)
        var table = CaseTable()
        var reference: [CaseKey: Int] = [:]
        for i in 0..<50_000 {
            // Short and long (hashed) ids, many repeated, as the join sees them.
            let id = rng.below(3) == 0 ? "AOC-\(rng.below(20_000))" : String(repeating: "X", count: 30) + "-\(rng.below(20_000))"
            let key = CaseKey(id), t = rng.below(1_000_000)
            table.keepEarliest(key, t)
            if let old = reference[key], old <= t {} else { reference[key] = t }
            if i % 997 == 0 { #expect(table[key] == reference[key]) }
        }
        #expect(table.count == reference.count)
        #expect(Dictionary(uniqueKeysWithValues: table.entries.map { ($0.key, $0.value) }) == reference)
        let kept = table.filter { $0 >= 500_000 }
        #expect(Dictionary(uniqueKeysWithValues: kept.entries.map { ($0.key, $0.value) }) == reference.filter { $0.value >= 500_000 })
        #expect(table[CaseKey("never seen")] == nil)
    }

    @Test func aDayWithoutRecordsIsAZeroDay() {
        let r = Self.report([Self.call(Self.utc(2023, 11, 1, 3)), Self.call(Self.utc(2023, 11, 4, 3))], zone: bangkok)
        #expect(r.days.map { Text.localDate($0.start, offset: $0.startOffset) } == ["2023-11-01", "2023-11-02", "2023-11-03", "2023-11-04"])
        #expect(r.days.map(\.counters.calls) == [1, 0, 0, 1])
        #expect(r.hours.count == 2)
    }

    @Test func windowsAreFinalOnlyPastTheWatermarkLessLateness() {
        let t = Self.utc(2023, 11, 1, 0)
        let r = Self.report([Self.call(t), Self.call(t + 3 * 3600)], zone: bangkok)
        // Watermark 03:00 UTC, lateness 2 h: hours ending by 01:00 UTC are final.
        #expect(r.hours.map(\.isFinal) == [true, false])
        #expect(r.days.map(\.isFinal) == [false])
    }
}
