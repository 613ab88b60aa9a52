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

    static func synthetic(seed: UInt64, into dir: String, gzip: Int? = 6) throws -> GeneratorTruth {
        var p = SyntheticProfile()
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

    @Test func batchOverSyntheticDataEqualsTheGeneratorsTruth() throws {
        for gzip in [6, nil] as [Int?] {
            let dir = TempDir()
            defer { dir.remove() }
            let truth = try Self.synthetic(seed: 3, into: dir.path, gzip: gzip)
            let config = try PipelineConfig.load(path: dir.path + "/pipeline.yaml")
            let r = try BatchRunner(config: config, jobs: 2, progress: .never).run().report
            #expect(r.days.map { Text.localDate($0.start, offset: $0.startOffset) } == truth.days.map(\.day))
            #expect(r.days.map(\.counters.calls) == truth.days.map(\.calls))
            #expect(r.days.map(\.counters.accountsFrozen) == truth.days.map(\.accountsFrozen))
            #expect(r.totals.counters.calls == truth.calls)
            #expect(r.input.skipped > 0, "other numbers are in the logs and skipped")
            #expect(abs(r.totals.freeze.meanMinutes - truth.meanFreezeMinutes) < 1e-9)
            #expect(r.input.malformed == 0)
        }
    }
}
