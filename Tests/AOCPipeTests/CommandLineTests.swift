import Foundation
import Testing
@testable import AOCPipe

/// The `aocpipe` binary as a user runs it: exit statuses, stdout and stderr.
@Suite struct CommandLineTests {
    static var binary: String? {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("aocpipe").path
        for candidate in [beside, packageRoot + "/.build/debug/aocpipe"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }

    struct Run { var status: Int32; var stdout: String; var stderr: String }

    static func run(_ arguments: [String], in directory: String = packageRoot) throws -> Run {
        let binary = try #require(Self.binary, "the aocpipe binary is built next to the tests")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    @Test func batchPrintsTheTableFromTheRepositoryRoot() throws {
        let r = try Self.run(["batch", "Pipelines/aoc1441.yaml", "--progress", "never"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("38,564"))
        #expect(r.stdout.contains("2,671"))
        #expect(r.stdout.contains("2023-11-14"))
        #expect(r.stderr.isEmpty)
    }

    @Test func configurationErrorsExitWithStatus2() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let bad = dir.file("bad.yaml", "name: x\nsources:\n  - { name: t, format: asterisk-cdr, paths: [\"/nonexistent-aocpipe/*\"] }\n")
        let r = try Self.run(["batch", bad])
        #expect(r.status == 2)
        #expect(r.stderr.contains("bad.yaml:3: sources.t.paths"))
        #expect(r.stdout.isEmpty)
        let unknown = dir.file("unknown.yaml", "name: x\ncolour: blue\n")
        let u = try Self.run(["validate", unknown])
        #expect(u.status == 2)
        #expect(u.stderr.contains("unknown.yaml:2: colour: unknown key"))
        let missing = try Self.run(["batch", dir.path + "/nope.yaml"])
        #expect(missing.status == 2)
        let usage = try Self.run(["batch", "Pipelines/aoc1441.yaml", "--format", "xml"])
        #expect(usage.status != 0)
    }

    @Test func outputFileAndQuarantineKeepPersonalDataOffTheTerminal() throws {
        let dir = TempDir()
        defer { dir.remove() }
        _ = dir.file("logs/Master.csv", AsteriskCDRParserTests.example + "\n" + #""","0899999999","1441""# + "\n")
        let yaml = dir.file("p.yaml", """
            name: q
            sources: [{ name: telephony, format: asterisk-cdr, paths: ["logs/Master.csv"] }]
            quarantine: { path: out/q.jsonl }
            """)
        let r = try Self.run(["batch", yaml, "--format", "json", "--output", "out/r.json"], in: dir.path)
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("1 malformed line(s): column_count 1; samples in out/q.jsonl"))
        #expect(!r.stderr.contains("0899999999") && !r.stderr.contains("0812345678"))
        let json = try String(contentsOfFile: dir.path + "/out/r.json", encoding: .utf8)
        #expect(json.contains("\"calls\":1"))
        #expect(!json.contains("0812345678"))
        let quarantine = try String(contentsOfFile: dir.path + "/out/q.jsonl", encoding: .utf8)
        #expect(quarantine.contains("\"reason\":\"column_count\""))
        #expect(quarantine.contains("\"offset\":\(AsteriskCDRParserTests.example.utf8.count + 1)"))
    }

    @Test func validateShowsWhatLinesBecomeWithoutTheirContent() throws {
        let r = try Self.run(["validate", "Pipelines/aoc1441.yaml"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("hotline call at 2023-11-1"))
        #expect(r.stdout.contains("case reported at 2023-11-14"))
        #expect(!r.stdout.contains("Caller"))
    }
}
