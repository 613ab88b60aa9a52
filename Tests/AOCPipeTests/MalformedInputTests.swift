import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

@Suite struct MalformedInputTests {
    static let goodCDR = AsteriskCDRParserTests.example
    static let phone = "0812345678"

    static func config(_ dir: TempDir, maxLine: Int = 65536) throws -> PipelineConfig {
        try pipeline("""
            name: bad
            sources:
              - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/Master.csv*"] }
              - { name: freeze, format: freeze-jsonl, paths: ["\(dir.path)/freeze.jsonl*"] }
            limits: { max_line_bytes: \(maxLine) }
            """)
    }

    @Test func aByteOrderMarkOpensTheFileNotItsFirstLine() throws {
        // Both formats, plain and gzip, with every thread count: the first line counts.
        for jobs in [1, 2] {
            for gzip in [false, true] {
                let dir = TempDir()
                defer { dir.remove() }
                let bom = [UInt8]([0xEF, 0xBB, 0xBF])
                let freeze = bom + Array((#"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"C1"}"# + "\n").utf8)
                let cdr = bom + Array((Self.goodCDR + "\n").utf8)
                _ = dir.file("freeze.jsonl" + (gzip ? ".gz" : ""), gzip ? gzipMember(freeze) : freeze)
                _ = dir.file("Master.csv" + (gzip ? ".gz" : ""), gzip ? gzipMember(cdr) : cdr)
                let r = try BatchRunner(config: Self.config(dir), jobs: jobs, progress: .never).run().report
                #expect(r.input.malformed == 0, "jobs \(jobs), gzip \(gzip)")
                #expect(r.totals.counters.accountsFrozen == 1)
                #expect(r.totals.counters.calls == 1)
            }
        }
        // Only at the file's start: inside a file it is a bad line.
        let dir = TempDir()
        defer { dir.remove() }
        _ = dir.file("freeze.jsonl", Array(("\n").utf8) + [0xEF, 0xBB, 0xBF] + Array(#"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"C1"}"#.utf8))
        _ = dir.file("Master.csv", Self.goodCDR + "\n")
        let r = try BatchRunner(config: Self.config(dir), jobs: 1, progress: .never).run().report
        #expect(r.input.malformedByReason[.badJSON] == 1)
    }

    @Test func everyBadLineIsCountedByReasonAndSource() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let cdr = [
            Self.goodCDR,
            Self.goodCDR.replacingOccurrences(of: "2023-11-01 08:15:02", with: "2023-11-01 8:15"),    // bad_timestamp
            #""","0812345678","1441""#,                                                                  // column_count
            #""","0812345678,"1441""#,                                                                   // bad_quoting
            "",                                                                                          // blank: no record
            Self.goodCDR.replacingOccurrences(of: #","1441","#, with: #","14410","#),                    // skipped
            String(repeating: "9", count: 3000),                                                          // line_too_long
            Self.goodCDR,
        ].joined(separator: "\r\n") + "\r\n"
        _ = dir.file("Master.csv", cdr)
        let freeze = [
            #"{"ts":"2023-11-01T08:27:45+07:00","event":"reported","case":"C1"}"#,
            #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"C1","account":"123-4-56789-0"}"#,
            #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","account":"123-4-56789-0"}"#,         // missing_field
            #"{"ts":"2023-11-01T08:27:45+07:00","event":"frozen","case":"C1","account":"123-4-56789-0""#,  // bad_json
        ].joined(separator: "\n")  // no final newline: the last line still counts
        _ = dir.file("freeze.jsonl", gzipMember(freeze))
        let outcome = try BatchRunner(config: Self.config(dir, maxLine: 1000), jobs: 2, progress: .never).run()
        let r = outcome.report
        let cdrStats = try #require(r.sources.first { $0.name == "telephony" }?.stats)
        let freezeStats = try #require(r.sources.first { $0.name == "freeze" }?.stats)
        #expect(cdrStats.lines == 8)
        #expect(cdrStats.records == 2)
        #expect(cdrStats.skipped == 1)
        #expect(cdrStats.malformedByReason == [.badTimestamp: 1, .columnCount: 1, .badQuoting: 1, .lineTooLong: 1])
        #expect(freezeStats.records == 2)
        #expect(freezeStats.malformedByReason == [.missingField: 1, .badJSON: 1])
        #expect(r.input.malformed == 6)
        // Two good lines, one call: the same line twice is one call (the same uniqueid).
        #expect(r.totals.counters.calls == 1)
        #expect(r.totals.counters.accountsFrozen == 1)

        // Every malformed line has a sample with file, offset and reason.
        #expect(outcome.samples.count == 6)
        let tooLong = try #require(outcome.samples.first { $0.reason == .lineTooLong })
        #expect(tooLong.file.hasSuffix("Master.csv"))
        let offset = cdr.utf8.count - Self.goodCDR.utf8.count - 2 - 3002
        #expect(tooLong.offset == offset)

        // What reaches the terminal names no caller number and no account.
        let summary = Quarantine.summary(r.input) + Renderer.table(r) + Renderer.json(r) + Renderer.csv(r)
        #expect(!summary.contains(Self.phone))
        #expect(!summary.contains("56789"))
        #expect(summary.contains("bad_timestamp"))
    }

    @Test func anUnreadableFileFailsTheRunClearly() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.file("Master.csv", Self.goodCDR + "\n")
        _ = dir.file("freeze.jsonl", "")
        chmod(path, 0)
        defer { chmod(path, 0o644) }
        guard getuid() != 0 else { return }  // root reads anything: nothing to test
        #expect(throws: BatchRunner.Failure.self) { try BatchRunner(config: Self.config(dir), progress: .never).run() }
    }

    @Test func emptyFilesGiveAnEmptyReport() throws {
        let dir = TempDir()
        defer { dir.remove() }
        _ = dir.file("Master.csv", "")
        _ = dir.file("freeze.jsonl", "")
        let r = try BatchRunner(config: Self.config(dir), progress: .never).run().report
        #expect(r.days.isEmpty)
        #expect(r.watermark == nil)
        #expect(Renderer.json(r).contains("\"watermark\": null"))
        #expect(Renderer.thai(r).isEmpty)
    }
}
