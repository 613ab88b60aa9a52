import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// Batch and follow read files through the same stages, so they agree on everything a file
/// gives, its malformed lines included; sinks agree whatever their target.
@Suite(.serialized) struct OnePathTests {
    @Test func aDamagedFileGivesTheSameQuarantineSamplesInBatchAndFollow() throws {
        let dir = TempDir()
        defer { dir.remove() }
        // Malformed lines of every kind in three gzip members, the middle one corrupt.
        let whole = FileProcessorTests.text + Array("\n".utf8)  // follow counts a last line once it ends
        let third = whole.count / 3
        var middle = gzipMember(Array(whole[third..<(2 * third)]))
        for i in (middle.count / 2)..<(middle.count / 2 + 64) { middle[i] = 0xFF }
        _ = dir.file("Master.csv.1.gz", gzipMember(Array(whole[..<third])) + middle + gzipMember(Array(whole[(2 * third)...])))
        let followQuarantine = dir.path + "/follow-quarantine.jsonl"
        let f = try Follower(dir: dir.path, sources: """
              - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/Master.csv*"] }
            """, extra: "limits: { max_line_bytes: \(FileProcessorTests.maxLine) }\nquarantine: { path: \(followQuarantine) }")

        let config = try PipelineConfig.load(path: f.pipeline)
        let batch = try BatchRunner(config: config, jobs: 2, progress: .never).run()
        #expect(batch.report.input.malformed > 20)
        #expect(batch.report.input.damage.count == 1)
        let expected = Quarantine.render(batch.samples)
        #expect(batch.samples.count == Defaults.samplesPerFile)

        try f.start()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (f.document?["input"] as? [String: Any])?["malformed"] as? Int != batch.report.input.malformed {
            usleep(50_000)
        }
        #expect(f.stop() == 0)
        #expect((f.document?["input"] as? [String: Any])?["lines"] as? Int == batch.report.input.lines)
        let written = try String(contentsOfFile: followQuarantine, encoding: .utf8)
        #expect(written == expected)
        // A restart reads nothing new, so it samples nothing again.
        try f.start()
        usleep(300_000)
        #expect(f.stop() == 0)
        #expect(try String(contentsOfFile: followQuarantine, encoding: .utf8) == expected)
    }

    @Test func aStdoutSinkShowsTheWindowsOfAFileSinkWithTheSameHorizon() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let config = try pipeline("""
            name: aoc1441
            timezone: Asia/Bangkok
            sources:
              - { name: telephony, format: asterisk-cdr, paths: ["\(packageRoot)/SampleLogs/telephony/Master.csv*"] }
              - { name: freeze, format: freeze-jsonl, paths: ["\(packageRoot)/SampleLogs/freeze/freeze.jsonl*"] }
            sinks:
              - { type: stdout, format: prometheus, windows: day, horizon: 1d }
              - { type: file, format: prometheus, windows: day, horizon: 1d, path: \(dir.path)/a.prom }
              - { type: stdout, format: json, horizon: 1d }
              - { type: file, format: json, horizon: 1d, path: \(dir.path)/a.json }
            """)
        let report = try BatchRunner(config: config, progress: .never).run().report
        let sinks = FollowSettings(config: config).sinks.map(Sink.init)
        #expect(sinks.count == 4)
        let texts = sinks.map { $0.text(for: report)?.text ?? "" }
        #expect(texts[0] == texts[1])
        #expect(texts[2] == texts[3])
        // 1 day before the watermark (14 Nov 23:54): the windows of 13 and 14 November.
        #expect(texts[0].components(separatedBy: "aocpipe_window_calls{").count - 1 == 2)
        #expect(texts[0].contains("aocpipe_window_calls{window=\"day\",start=\"2023-11-13\"} 2932\n"))
        let days = try #require((try JSONSerialization.jsonObject(with: Data(texts[2].utf8)) as? [String: Any])?["days"] as? [[String: Any]])
        #expect(days.compactMap { $0["day"] as? String } == ["2023-11-13", "2023-11-14"])
        // Without a horizon, a json sink shows every day, as before.
        let all = Sink(SinkSettings(target: .stdout, format: .json)).text(for: report)?.text ?? ""
        #expect(((try JSONSerialization.jsonObject(with: Data(all.utf8)) as? [String: Any])?["days"] as? [Any])?.count == 14)
    }
}
