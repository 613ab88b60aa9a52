import Foundation
import Testing
@testable import AOCPipe

/// Every fuzz target's seeds and every input a fuzzer ever found (`Fuzz/Regressions`: crashes,
/// hangs, leaks, each kept with its fix), run through the same entry the fuzzer runs
/// (`FuzzEntries`): a finding that comes back fails here (a crash, or a run that hangs).
@Suite struct FuzzRegressionTests {
    static func inputs(_ target: FuzzEntries.Target) -> [String] {
        var paths: [String] = []
        for folder in ["Corpus", "Regressions"] {
            let dir = "\(packageRoot)/Fuzz/\(folder)/\(target.rawValue)"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            paths += names.filter { !$0.hasPrefix(".") }.sorted().map { "\(dir)/\($0)" }
        }
        return paths
    }

    @Test(arguments: FuzzEntries.Target.allCases)
    func seedsAndFindingsRunClean(target: FuzzEntries.Target) throws {
        let dir = TempDir()
        defer { dir.remove() }
        let inputs = Self.inputs(target)
        #expect(!inputs.isEmpty, "no seeds for \(target)")
        for path in inputs {
            let data = try #require(FileManager.default.contents(atPath: path))
            FuzzEntries.run(target, Array(data), scratch: dir.path + "/scratch")
        }
    }

    /// The entries check what they promise: the checkpoint seed decodes (so the target reaches
    /// the decoder's depths), and a pipeline seed parses.
    @Test func theSeedsReachTheDecoders() throws {
        let payload = try #require(FileManager.default.contents(atPath: "\(packageRoot)/Fuzz/Corpus/checkpoint/batch-payload"))
        var header = ByteWriter()
        header.bytes = Checkpoint.magic
        header.fixed32(Checkpoint.version)
        header.fixed64(UInt64(payload.count))
        header.fixed32(Checkpoint.crc(Array(payload)))
        let c = try Checkpoint.decode(header.bytes + Array(payload), path: "seed", config: FuzzEntries.config)
        #expect(c.sources[0].records > 0 && c.sources[1].records > 0)
        let yaml = try #require(FileManager.default.contents(atPath: "\(packageRoot)/Fuzz/Corpus/pipeline/everything.yaml"))
        #expect(try PipelineConfig.parse(yaml: String(decoding: yaml, as: UTF8.self), file: "everything.yaml").sources.count == 2)
    }
}
