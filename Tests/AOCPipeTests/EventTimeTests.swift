import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// The event-time guard: a record dated outside the times counted (before `not_before`, or
/// more than `max_future` after the clock) is `bad_time`. It moves neither the watermark nor
/// retention, and no span of dates makes windows without data.
@Suite(.serialized) struct EventTimeTests {
    /// A CDR line of a call starting at `start` (UTC seconds), as the generator writes it.
    static func cdr(_ start: Int, sequence: Int) -> String {
        let call = GeneratedCall(src: 812_000_000 + sequence, dst: "1441", dcontext: "aoc-hotline", start: start,
                                 answer: start + 10, end: start + 100, disposition: "ANSWERED", agent: 1, sequence: sequence)
        var line: [UInt8] = []
        call.append(to: &line, offset: 7 * 3600)
        return String(decoding: line, as: UTF8.self)
    }

    static func freeze(_ ts: String, _ event: String, _ id: Int) -> String {
        #"{"ts":"\#(ts)","event":"\#(event)","case":"C\#(id)","account":"123-4-56789-\#(id)"}"# + "\n"
    }

    static let nov1 = CivilTime.epochSeconds(year: 2023, month: 11, day: 1, hour: 1, minute: 0, second: 0)

    /// Three days of calls and two freezes, with `outliers` (UTC seconds) among them, after
    /// the `at`th call, and calls at `leading` before the first.
    static func write(_ dir: TempDir, outliers: [Int], gzip: Bool, at: Int = 10, leading: [Int] = []) {
        var cdr = "", sequence = 0
        for o in leading { sequence += 1; cdr += Self.cdr(o, sequence: sequence) }
        for k in 0..<30 {
            sequence += 1
            cdr += Self.cdr(nov1 + k * 7_200, sequence: sequence)
            if k == at { for o in outliers { sequence += 1; cdr += Self.cdr(o, sequence: sequence) } }
        }
        var freeze = Self.freeze("2023-11-01T09:00:00+07:00", "reported", 1) + Self.freeze("2023-11-01T09:10:00+07:00", "frozen", 1)
        for o in outliers {
            let ts = Text.localTimestamp(o, offset: 0)
            freeze += Self.freeze(ts, "reported", 2) + Self.freeze(ts, "frozen", 2)
        }
        freeze += Self.freeze("2023-11-03T09:00:00+07:00", "reported", 3) + Self.freeze("2023-11-03T09:20:00+07:00", "frozen", 3)
        _ = dir.file("Master.csv" + (gzip ? ".gz" : ""), gzip ? gzipMember(Array(cdr.utf8)) : Array(cdr.utf8))
        _ = dir.file("freeze.jsonl" + (gzip ? ".gz" : ""), gzip ? gzipMember(Array(freeze.utf8)) : Array(freeze.utf8))
    }

    static func config(_ dir: TempDir, aggregate: String = "") throws -> PipelineConfig {
        try pipeline("""
            name: times
            sources:
              - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/Master.csv*"] }
              - { name: freeze, format: freeze-jsonl, paths: ["\(dir.path)/freeze.jsonl*"] }
            \(aggregate)
            """)
    }

    @Test func batchDoesNotCountRecordsOutsideTheTimesCounted() throws {
        let now = wallClockMillis() / 1000
        let outliers = [
            CivilTime.epochSeconds(year: 2099, month: 1, day: 1, hour: 0, minute: 0, second: 0),
            CivilTime.epochSeconds(year: 9999, month: 12, day: 31, hour: 0, minute: 0, second: 0),
            CivilTime.epochSeconds(year: 1, month: 1, day: 1, hour: 0, minute: 0, second: 0),
            0,  // 1970-01-01: an unset clock
            CivilTime.epochSeconds(year: 1999, month: 12, day: 31, hour: 16, minute: 59, second: 59),  // 23:59:59 in Bangkok
            now + 2 * 3600,  // two hours ahead of the clock
        ]
        let clean = TempDir()
        defer { clean.remove() }
        Self.write(clean, outliers: [], gzip: false)
        let truth = try BatchRunner(config: Self.config(clean), jobs: 1, progress: .never).run().report
        #expect(truth.days.count == 3 && truth.totals.counters.calls == 30 && truth.totals.counters.accountsFrozen == 2)

        for jobs in [1, 2] {
            for gzip in [false, true] {
                let dir = TempDir()
                defer { dir.remove() }
                Self.write(dir, outliers: outliers, gzip: gzip)
                let outcome = try BatchRunner(config: Self.config(dir), jobs: jobs, progress: .never).run()
                let r = outcome.report
                let what = "jobs \(jobs), gzip \(gzip)"
                #expect(r.input.malformedByReason == [.badTime: 3 * outliers.count], "\(what)")
                #expect(r.input.records == truth.input.records, "\(what)")
                #expect(r.watermark == truth.watermark, "\(what)")
                #expect(r.days == truth.days, "\(what)")
                #expect(r.hours == truth.hours, "\(what)")
                #expect(r.totals == truth.totals, "\(what)")
                #expect(r.input.lateDropped == 0, "\(what)")
                // Said once per file, naming it.
                #expect(outcome.warnings.filter { $0.contains("bad_time") }.count == 2, "\(outcome.warnings)")
                #expect(outcome.warnings.contains { $0.hasPrefix(dir.path + "/Master.csv") && $0.contains("\(outliers.count) record(s)") })
                #expect(outcome.samples.filter { $0.reason == .badTime }.count == 3 * outliers.count)
            }
        }
    }

    @Test func theBoundsAreSettings() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let now = wallClockMillis() / 1000
        // In stream order: a counted line years ahead makes the calls after it late (`lateness`).
        Self.write(dir, outliers: [now + 2 * 3600], gzip: false, at: 29,
                   leading: [CivilTime.epochSeconds(year: 1990, month: 6, day: 1, hour: 0, minute: 0, second: 0)])
        // A day ahead and from 1990 on (a date is local midnight in the pipeline's zone): both count.
        let wide = try Self.config(dir, aggregate: "aggregate: { max_future: 1d, not_before: 1990-06-01 }")
        #expect(wide.notBeforeMillis == (CivilTime.epochSeconds(year: 1990, month: 6, day: 1, hour: 0, minute: 0, second: 0) - 7 * 3600) * 1000)
        let r = try BatchRunner(config: wide, jobs: 1, progress: .never).run().report
        #expect(r.input.malformed == 0)
        #expect(r.totals.counters.calls == 32)
        // The first record on or after `not_before`, given with its offset, counts; the one before does not.
        let strict = try Self.config(dir, aggregate: "aggregate: { not_before: \"2023-11-01T08:00:00+07:00\" }")
        let s = try BatchRunner(config: strict, jobs: 1, progress: .never).run().report
        #expect(s.input.malformedByReason[.badTime] == 2 + 2)  // the first call of Nov 1, at 08:00 Bangkok, counts
        #expect(s.totals.counters.calls == 30)
        #expect(throws: ConfigError.self) { try Self.config(dir, aggregate: "aggregate: { not_before: yesterday }") }
        #expect(throws: ConfigError.self) { try Self.config(dir, aggregate: "aggregate: { max_future: soon }") }
    }

    @Test func daysWithoutRecordsAreFilledOnlyAcrossShortGaps() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let day = 86_400
        let starts = [CivilTime.epochSeconds(year: 2003, month: 6, day: 1, hour: 1, minute: 0, second: 0),
                      Self.nov1, Self.nov1 + 2 * day, Self.nov1 + 42 * day]
        let cdr = starts.enumerated().map { Self.cdr($1, sequence: $0 + 1) }.joined()
        _ = dir.file("Master.csv", cdr)
        _ = dir.file("freeze.jsonl", "")
        func dates(_ aggregate: String) throws -> [String] {
            let r = try BatchRunner(config: Self.config(dir, aggregate: aggregate), jobs: 1, progress: .never).run().report
            #expect(r.totals.counters.calls == 4)
            return r.days.map { Text.localDate($0.start, offset: $0.startOffset) }
        }
        // Nov 2 is a zero day (a gap of one day); the 39 days before Dec 13 and the 20 years after 2003 are left out.
        #expect(try dates("") == ["2003-06-01", "2023-11-01", "2023-11-02", "2023-11-03", "2023-12-13"])
        #expect(try dates("aggregate: { fill_gaps: 0 }") == ["2003-06-01", "2023-11-01", "2023-11-03", "2023-12-13"])
        #expect(try dates("aggregate: { fill_gaps: 40d }").count == 1 + 43)
    }

    @Test func aFollowerFedALineFrom2099KeepsEveryCount() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let (f, writer) = try FollowTests.followedCDRLog(dir.path + "/Master.csv", in: dir)
        writer.write(150)
        try f.start()
        #expect(f.waitFor(writer.truth) == writer.truth)
        let watermark = f.document?["watermark"] as? String
        writer.writeOutlier(start: CivilTime.epochSeconds(year: 2099, month: 1, day: 1, hour: 0, minute: 0, second: 0))
        writer.writeOutlier(start: 0)
        writer.write(60)  // later real calls still count
        #expect(f.waitFor(writer.truth) == writer.truth)
        #expect(f.stop() == 0)
        // Across a restart from the checkpoint, and one more far-future line.
        try f.start()
        writer.writeOutlier(start: CivilTime.epochSeconds(year: 2099, month: 1, day: 1, hour: 0, minute: 0, second: 0))
        writer.write(40)
        #expect(f.waitFor(writer.truth) == writer.truth)
        #expect(f.stop() == 0)
        let doc = try #require(f.document)
        let input = try #require(doc["input"] as? [String: Any])
        #expect(input["malformed_by_reason"] as? [String: Int] == ["bad_time": 3])
        #expect(input["late_dropped"] as? Int == 0)
        #expect((doc["totals"] as? [String: Any])?["calls"] as? Int == 250)
        #expect((doc["watermark"] as? String).map { $0 > watermark ?? "" && $0 < "2024" } == true)
        // Said once per file per run, naming the file.
        let logs = try (0..<2).map { try String(contentsOfFile: f.log + ".\($0)", encoding: .utf8) }
        #expect(logs.map { $0.components(separatedBy: "bad_time").count - 1 } == [1, 1], "\(logs)")
        #expect(logs[0].contains(dir.path + "/Master.csv"))
    }

    @Test func zonesAreIANANamesAndAPOSIXSignIsSpelledOut() throws {
        func load(_ zone: String) throws -> PipelineConfig {
            try pipeline("""
                timezone: \(zone)
                sources: [{ name: t, format: asterisk-cdr, paths: [x] }]
                """)
        }
        for offsetSyntax in ["UTC+7", "GMT+7", "GMT+07:00", "UTC-3"] {
            #expect(throws: ConfigError.self, "\(offsetSyntax)") { try load(offsetSyntax) }
        }
        #expect(throws: ConfigError.self) { try load("asia/bangkok") }
        #expect(try load("Asia/Bangkok").warnings.isEmpty)
        #expect(try load("UTC").warnings.isEmpty)
        let west = try load("Etc/GMT+7")
        #expect(west.zone.offset(utc: 0) == -7 * 3600)
        #expect(west.warnings.count == 1 && west.warnings[0].contains("UTC-07:00") && west.warnings[0].contains("Asia/Bangkok"))
        #expect(try load("Etc/GMT-7").warnings.first?.contains("UTC+07:00") == true)
        // validate shows the offset in use.
        let preview = try PipelinePreview(config: try pipeline("""
            timezone: Etc/GMT+7
            sources: [{ name: t, format: asterisk-cdr, paths: ["\(packageRoot)/SampleLogs/telephony/Master.csv"], timezone: Asia/Bangkok }]
            """), lines: 1).render()
        #expect(preview.contains("report zone Etc/GMT+7 (UTC-07:00 now)"))
        #expect(preview.contains("zone Asia/Bangkok UTC+07:00"))
        #expect(preview.contains("warning: timezone: time zone Etc/GMT+7 is UTC-07:00"))
    }
}
