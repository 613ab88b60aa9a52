import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// The whole batch path over the committed sample logs, against the published table.
@Suite struct EndToEndTests {
    static func sampleReport(jobs: Int = 2) throws -> Report {
        var config = try PipelineConfig.load(path: packageRoot + "/Pipelines/aoc1441.yaml")
        for i in config.sources.indices { config.sources[i].paths = config.sources[i].paths.map { packageRoot + "/" + $0 } }
        return try BatchRunner(config: config, jobs: jobs, progress: .never).run().report
    }

    @Test func reproducesThePublishedTable() throws {
        for jobs in [1, 2, 5] {
            let r = try Self.sampleReport(jobs: jobs)
            #expect(r.days.count == 14)
            #expect(r.days.map(\.counters.calls) == AOC1441Profile.published.map(\.calls))
            #expect(r.days.map(\.counters.accountsFrozen) == AOC1441Profile.published.map(\.frozen))
            #expect(r.totals.counters.calls == 38_564)
            #expect(r.totals.counters.accountsFrozen == 2_671)
            #expect(abs(r.totals.freeze.meanMinutes - 15) < 0.5)
            #expect(r.input.malformed == 0)
            #expect(r.input.unmatched == 0)
            #expect(r.input.files == 28)
            #expect(r.hours.reduce(0) { $0 + $1.counters.calls } == 38_564)
        }
    }

    @Test func thaiMatchesThePressRelease() throws {
        let lines = Renderer.thai(try Self.sampleReport()).split(separator: "\n").map(String.init)
        // The release's sentences, as published (docs/FORMATS.md, "The published table").
        let release = [
            "วันที่ 1 พ.ย. 2566 สายเข้า 1,310 สาย อายัดบัญชีจบ จำนวน 12 บัญชี",
            "วันที่ 2 พ.ย. 2566 สายเข้า 2,752 สาย อายัดบัญชีจบ จำนวน 73 บัญชี",
            "วันที่ 3 พ.ย. 2566 สายเข้า 2,711 สาย อายัดบัญชีจบ จำนวน 137 บัญชี",
            "วันที่ 4 พ.ย. 2566 สายเข้า 2,820 สาย อายัดบัญชีจบ จำนวน 124 บัญชี",
            "วันที่ 5 พ.ย. 2566 สายเข้า 2,037 สาย อายัดบัญชีจบ จำนวน 125 บัญชี",
            "วันที่ 6 พ.ย. 2566 สายเข้า 3,370 สาย อายัดบัญชีจบ จำนวน 209 บัญชี",
            "วันที่ 7 พ.ย. 2566 สายเข้า 3,241 สาย อายัดบัญชีจบ จำนวน 206 บัญชี",
            "วันที่ 8 พ.ย. 2566 สายเข้า 3,306 สาย อายัดบัญชีจบ จำนวน 268 บัญชี",
            "วันที่ 9 พ.ย. 2566 สายเข้า 3,466 สาย อายัดบัญชีจบ จำนวน 243 บัญชี",
            "วันที่ 10 พ.ย. 2566 สายเข้า 3,175 สาย อายัดบัญชีจบ จำนวน 235 บัญชี",
            "วันที่ 11 พ.ย. 2566 สายเข้า 2,244 สาย อายัดบัญชีจบ จำนวน 175 บัญชี",
            "วันที่ 12 พ.ย. 2566 สายเข้า 1,869 สาย อายัดบัญชีจบ จำนวน 197 บัญชี",
            "วันที่ 13 พ.ย. 2566 สายเข้า 2,932 สาย อายัดบัญชีจบ จำนวน 318 บัญชี",
            "วันที่ 14 พ.ย. 2566 สายเข้า 3,331 สาย อายัดบัญชีจบ จำนวน 349 บัญชี",
        ]
        #expect(Array(lines.prefix(14)) == release)
        #expect(lines[14] == "รวม 14 วัน (วันที่ 1-14 พ.ย. 66) สายเข้า 38,564 สาย")
        #expect(lines[15] == "อายัดบัญชี เฉลี่ย 15 นาทีจบ จำนวน 2,671 บัญชี")
        #expect(lines.count == 16)
    }

    @Test func jsonDocumentHasTheDesignedShape() throws {
        let text = Renderer.json(try Self.sampleReport())
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(doc["pipeline"] as? String == "aoc1441")
        #expect(doc["timezone"] as? String == "Asia/Bangkok")
        #expect((doc["watermark"] as? String)?.hasPrefix("2023-11-14T23:") == true)
        let totals = try #require(doc["totals"] as? [String: Any])
        #expect(totals["calls"] as? Int == 38_564)
        #expect(totals["accounts_frozen"] as? Int == 2_671)
        for key in ["calls_answered", "calls_unanswered", "cases_reported", "freeze_requests", "freezes_failed"] {
            #expect(totals[key] is Int, "totals.\(key)")
        }
        let freeze = try #require(totals["freeze_minutes"] as? [String: Any])
        for key in ["count", "mean", "p50", "p90", "p99", "max", "within_sla"] { #expect(freeze[key] != nil, "\(key)") }
        let days = try #require(doc["days"] as? [[String: Any]])
        #expect(days.count == 14)
        #expect(days[0]["day"] as? String == "2023-11-01")
        #expect(days[0]["start"] as? String == "2023-11-01T00:00:00+07:00")
        #expect(days[0]["final"] as? Bool == true)
        #expect(days[0]["calls"] as? Int == 1_310)
        #expect(days[0]["accounts_frozen"] as? Int == 12)
        let hours = try #require(doc["hours"] as? [[String: Any]])
        #expect(hours.count > 14 * 20)
        let input = try #require(doc["input"] as? [String: Any])
        for key in ["files", "bytes_read", "bytes_decoded", "lines", "records", "skipped", "malformed",
                    "malformed_by_reason", "late_dropped", "unmatched"] { #expect(input[key] != nil, "input.\(key)") }
    }

    /// A window without freezes has no freeze mean or share within the SLA: JSON says `null`
    /// and CSV leaves the fields empty (a 0 there pulled any average of windows down).
    @Test func windowsWithoutFreezesHaveNoLatencyNumbers() throws {
        let report = try Self.sampleReport()
        let quiet = try #require(report.hours.first { $0.freeze.count == 0 })
        let busy = try #require(report.hours.first { $0.freeze.count > 0 })
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(Renderer.json(report, windows: .hour).utf8)) as? [String: Any])
        let hours = try #require(doc["hours"] as? [[String: Any]])
        func freeze(_ w: WindowReport) throws -> [String: Any] {
            let start = Text.localTimestamp(w.start, offset: w.startOffset)
            return try #require(hours.first { $0["start"] as? String == start }?["freeze_minutes"] as? [String: Any])
        }
        let none = try freeze(quiet)
        #expect(none["count"] as? Int == 0)
        for key in ["mean", "p50", "p90", "p99", "max", "within_sla"] { #expect(none[key] is NSNull, "\(key)") }
        #expect(try freeze(busy)["mean"] is Double || (try freeze(busy)["mean"] is Int))
        let row = try #require(Renderer.csv(report, windows: .hour).split(separator: "\n")
            .first { $0.contains(Text.localTimestamp(quiet.start, offset: quiet.startOffset) + ",") })
        #expect(row.hasSuffix(",0,,,,,,"), "\(row)")
    }

    @Test func csvAndJSONLCarryTheSameNumbers() throws {
        let r = try Self.sampleReport()
        let csv = Renderer.csv(r).split(separator: "\n")
        #expect(csv.count == 15)
        #expect(csv[1].hasPrefix("day,2023-11-01T00:00:00+07:00,2023-11-02T00:00:00+07:00,true,1310,"))
        let jsonl = Renderer.jsonl(r, windows: .day).split(separator: "\n")
        #expect(jsonl.count == 14)
        for (line, expected) in zip(jsonl, AOC1441Profile.published) {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(o["calls"] as? Int == expected.calls)
            #expect(o["accounts_frozen"] as? Int == expected.frozen)
        }
        let table = Renderer.table(r)
        #expect(table.contains("38,564"))
        #expect(table.contains("2,671"))
    }
}
