import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

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

    /// A checkpoint another pipeline wrote is refused by both modes, naming both, before
    /// anything is read (the same sources, as a copied pipeline file has, are no excuse).
    @Test func anotherPipelinesCheckpointIsRefusedByBatchAndFollow() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let state = dir.path + "/state"
        #expect(try Self.run(["batch", "Pipelines/aoc1441.yaml", "--progress", "never", "--checkpoint", state]).status == 0)
        let yaml = try String(contentsOfFile: packageRoot + "/Pipelines/aoc1441.yaml", encoding: .utf8)
        let other = dir.file("other.yaml", yaml.replacingOccurrences(of: "name: aoc1441", with: "name: other"))
        for command in ["batch", "follow"] {
            let r = try Self.run([command, other, "--checkpoint", state])
            #expect(r.status == 2, "\(command)")
            #expect(r.stderr.contains(#"belongs to pipeline "aoc1441", not "other""#), "\(command): \(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    /// One process per checkpoint: a second follower or a batch on a checkpoint a follower
    /// holds exits 2 naming the holder's pid; a checkpoint that cannot be written stops the run
    /// at start (exit 1), not at the first checkpoint.
    @Test func aCheckpointServesOneProcessAndIsProbedAtStart() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let (f, writer) = try FollowTests.followedCDRLog(dir.path + "/Master.csv", in: dir)
        writer.write(10)
        try f.start()
        let pid = try #require(f.process?.processIdentifier)
        for command in ["follow", "batch"] {
            let r = try Self.run([command, f.pipeline, "--checkpoint", dir.path + "/state"])
            #expect(r.status == 2, "\(command)")
            #expect(r.stderr.contains("is in use by another aocpipe (pid \(pid))"), "\(command): \(r.stderr)")
        }
        #expect(f.stop() == 0)
        // Once the holder is gone, the checkpoint is free.
        #expect(try Self.run(["batch", f.pipeline, "--checkpoint", dir.path + "/state"]).status == 0)
        let unusable = try Self.run(["follow", f.pipeline, "--checkpoint", "/proc/aocpipe-none/state"])
        #expect(unusable.status == 1)
        #expect(unusable.stderr.contains("cannot use checkpoint /proc/aocpipe-none/state"))
    }

    /// The quarantine holds raw lines: with no `quarantine.path` and no `--quarantine`,
    /// batch writes none (it wrote `.aocpipe/NAME-quarantine.jsonl` in the current directory).
    @Test func noQuarantineIsWrittenWhereNobodyAskedForOne() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let cut = #""","0812345678","1441""#
        _ = dir.file("Master.csv", AsteriskCDRParserTests.example + "\n" + cut + "\n")
        let yaml = dir.file("p.yaml", "name: p\nsources:\n  - { name: t, format: asterisk-cdr, paths: [Master.csv] }\n")
        let r = try Self.run(["batch", yaml, "--progress", "never"], in: dir.path)
        #expect(r.status == 0)
        #expect(r.stderr.contains("1 malformed line(s): column_count 1; to keep samples, set quarantine.path or --quarantine"), "\(r.stderr)")
        #expect(!r.stderr.contains("0812345678") && !r.stdout.contains("0812345678"))
        let left = try FileManager.default.subpathsOfDirectory(atPath: dir.path).sorted()
        #expect(left == ["Master.csv", "p.yaml"], "\(left)")
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
        #expect(r.stdout.contains("hotline line of call #"))
        #expect(r.stdout.contains(", starting 2023-11-1"))
        // A call's id is shown only as its hash's first digits, never as the id.
        #expect(r.stdout.range(of: #"[0-9]{10}\.[0-9]+"#, options: .regularExpression) == nil)
        #expect(r.stdout.contains("case reported at 2023-11-14"))
        #expect(!r.stdout.contains("Caller"))
    }
}

/// `kill -9` of a batch run with a checkpoint, at random moments, then a restart: the final
/// numbers equal the generator's truth, nothing lost, nothing counted twice.
@Suite struct BatchCrashTests {
    @Test func killedAndRestartedBatchEndsWithTheTruth() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var profile = SyntheticProfile()
        profile.days = 4
        profile.callsPerDay = 30000
        profile.files = 20
        profile.seed = 11
        let truth = try profile.generate(outDir: dir.path)
        var yaml = try String(contentsOfFile: dir.path + "/pipeline.yaml", encoding: .utf8)
        yaml += "checkpoint: { every: 1ms }\n"
        let pipelinePath = dir.file("crash.yaml", yaml)
        let binary = try #require(CommandLineTests.binary)
        let state = dir.path + "/state"
        var rng = SystemRandomNumberGenerator()
        var kills = 0
        var finished = false
        for _ in 0..<60 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = ["batch", pipelinePath, "--checkpoint", state, "--format", "json", "--windows", "day",
                           "--progress", "never", "--jobs", "2", "--output", dir.path + "/out.json"]
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(UInt32.random(in: 5_000...(kills < 20 ? 120_000 : 5_000_000), using: &rng))
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                kills += 1
            }
            p.waitUntilExit()
            if p.terminationReason == .exit {
                #expect(p.terminationStatus == 0)
                finished = true
                break
            }
        }
        #expect(finished)
        #expect(kills >= 5, "runs were killed part-way")
        print("batch crash test: \(kills) kill(s) before a run finished")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path + "/out.json"))) as? [String: Any])
        let days = try #require(doc["days"] as? [[String: Any]])
        #expect(days.map { $0["day"] as? String } == truth.days.map(\.day))
        #expect(days.map { $0["calls"] as? Int } == truth.days.map(\.calls))
        #expect(days.map { $0["accounts_frozen"] as? Int } == truth.days.map(\.accountsFrozen))
        let input = try #require(doc["input"] as? [String: Any])
        #expect(input["files"] as? Int == 40)
    }
}
