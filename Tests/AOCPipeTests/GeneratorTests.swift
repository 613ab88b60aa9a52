import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

@Suite struct GeneratorTests {
    /// Relative paths of the files under `dir`, sorted.
    static func listing(_ dir: String) -> [String] {
        (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? [])
            .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: dir + "/" + $0, isDirectory: &d) && !d.boolValue }
            .sorted()
    }

    @Test func committedSampleLogsAreExactlyWhatTheGeneratorWrites() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let truth = try AOC1441Profile.generate(outDir: dir.path)
        let committed = packageRoot + "/SampleLogs"
        #expect(Self.listing(dir.path) == Self.listing(committed))
        for name in Self.listing(dir.path) {
            let fresh = FileManager.default.contents(atPath: dir.path + "/" + name)
            let kept = FileManager.default.contents(atPath: committed + "/" + name)
            #expect(fresh == kept, "SampleLogs/\(name) differs from a fresh generation")
        }
        // The generator's own count is the table, and its mean latency is exactly 15 minutes.
        #expect(truth.days.map(\.calls) == AOC1441Profile.published.map(\.calls))
        #expect(truth.days.map(\.accountsFrozen) == AOC1441Profile.published.map(\.frozen))
        #expect(truth.meanFreezeMinutes == 15)
    }

    @Test func sampleLogsLookLikeLogrotateLeftThem() {
        let names = Self.listing(packageRoot + "/SampleLogs/telephony")
        #expect(names.first == "Master.csv")
        #expect(names.contains("Master.csv-20231101.gz"))
        #expect(names.contains("Master.csv-20231113.gz"))
        #expect(!names.contains("Master.csv-20231114.gz"))
        #expect(names.count == 14)
    }

    static func synthetic(seed: UInt64, into dir: String, gzip: Int? = 6, style: CDRStyle = .callcentre,
                          columns: Int = 18) throws -> GeneratorTruth {
        var p = SyntheticProfile()
        p.cdrStyle = style
        p.cdrColumns = columns
        p.days = 3
        p.callsPerDay = 3000
        p.files = 4
        p.seed = seed
        p.gzipLevel = gzip
        return try p.generate(outDir: dir)
    }

    @Test func syntheticIsDeterministic() throws {
        let a = TempDir(), b = TempDir(), c = TempDir()
        defer { a.remove(); b.remove(); c.remove() }
        _ = try Self.synthetic(seed: 7, into: a.path)
        _ = try Self.synthetic(seed: 7, into: b.path)
        _ = try Self.synthetic(seed: 8, into: c.path)
        let names = Self.listing(a.path).filter { $0 != "pipeline.yaml" }
        #expect(names.count == 9)  // 4 + 4 logs + truth.json
        for name in names {
            #expect(FileManager.default.contents(atPath: a.path + "/" + name) == FileManager.default.contents(atPath: b.path + "/" + name), "\(name)")
        }
        let differs = names.contains {
            FileManager.default.contents(atPath: a.path + "/" + $0) != FileManager.default.contents(atPath: c.path + "/" + $0)
        }
        #expect(differs, "another seed gives other data")
    }

    @Test(arguments: [(CDRStyle.callcentre, 18), (.callcentre, 21), (.simple, 18), (.simple, 21)])
    func batchOverSyntheticDataEqualsTheGeneratorsTruth(style: CDRStyle, columns: Int) throws {
        var answered: Int?
        // gzip and plain for the default style; the others plain (the thread sanitizer runs
        // this suite too, where each generation takes seconds).
        for gzip in (style == .callcentre && columns == 18 ? [6, nil] : [nil]) as [Int?] {
            let dir = TempDir()
            defer { dir.remove() }
            let truth = try Self.synthetic(seed: 3, into: dir.path, gzip: gzip, style: style, columns: columns)
            let config = try PipelineConfig.load(path: dir.path + "/pipeline.yaml")
            let r = try BatchRunner(config: config, jobs: 2, progress: .never).run().report
            #expect(r.days.map { Text.localDate($0.start, offset: $0.startOffset) } == truth.days.map(\.day))
            #expect(r.days.map(\.counters.calls) == truth.days.map(\.calls))
            #expect(r.days.map(\.counters.accountsFrozen) == truth.days.map(\.accountsFrozen))
            #expect(r.totals.counters.calls == truth.calls)
            #expect(r.input.skipped > 0, "other numbers are in the logs and skipped")
            #expect(abs(r.totals.freeze.meanMinutes - truth.meanFreezeMinutes) < 1e-9)
            #expect(r.input.malformed == 0)
            #expect(r.input.lateDropped == 0)
            #expect(r.input.keylessCallLines == 0)
            // A call centre writes several lines a call; the simple style one.
            if style == .callcentre {
                #expect(r.input.callLines > 3 * truth.calls)
            } else {
                #expect(r.input.callLines == truth.calls)
            }
            // The same calls, answered or not, whatever the compression.
            if let answered { #expect(r.totals.counters.callsAnswered == answered) }
            answered = r.totals.counters.callsAnswered
            #expect(r.totals.counters.callsAnswered > truth.calls * 8 / 10)
        }
    }

    @Test func callCentreLinesAreAQueuesLines() throws {
        // Every line shape of the call centre is there: rings missed and answered, the IVR's
        // abandon, voicemail, transfers back into the hotline and out, Local legs (21 columns).
        let dir = TempDir()
        defer { dir.remove() }
        let truth = try Self.synthetic(seed: 4, into: dir.path, gzip: nil, columns: 21)
        var text = ""
        for name in Self.listing(dir.path + "/telephony") {
            text += try String(contentsOfFile: dir.path + "/telephony/" + name, encoding: .utf8)
        }
        let lines = text.split(separator: "\n")
        #expect(lines.count > 3 * truth.calls)
        #expect(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count >= 21 })
        func some(_ what: String, _ test: (Substring) -> Bool) {
            let found = lines.contains(where: test)
            #expect(found, "\(what)")
        }
        some("a missed ring") { $0.contains(#""PJSIP/agent"#) && $0.contains(#""NO ANSWER""#) }
        some("an agent's answer") { $0.contains(#""PJSIP/agent"#) && $0.contains(#""ANSWERED""#) }
        some("an abandon in the IVR") { $0.contains(#""PJSIP/trunk-"#) && $0.contains(#","","Queue","#) && $0.contains(#""ANSWERED""#) }
        some("voicemail") { $0.contains(#""VoiceMail","1441@aoc""#) && $0.contains(#""ANSWERED""#) }
        some("a transfer back into the queue") { $0.contains(#","1441","aoc-hotline","#) && $0.contains("agent") && $0.contains(#""ANSWERED""#) }
        some("a transfer out") { $0.contains(#""2001","from-internal""#) }
        some("a Local leg") { $0.contains(#""Local/1441@aoc-queue-"#) && $0.contains(";2") }
        some("busy") { $0.contains(#""BUSY""#) }
        // Lines are written when calls end: the end times never go back by more than a call.
        let ends = lines.map { l -> String in
            let f = l.split(separator: ",", omittingEmptySubsequences: false)
            return String(f[11])
        }
        #expect(zip(ends, ends.dropFirst()).filter { $0 > $1 }.count < lines.count / 2)
    }
}
