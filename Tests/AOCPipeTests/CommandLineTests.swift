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

    /// `stdout`, `stderr`: where those go instead of a pipe read here (then read as empty).
    static func run(_ arguments: [String], in directory: String = packageRoot,
                    stdout: FileHandle? = nil, stderr: FileHandle? = nil) throws -> Run {
        let binary = try #require(Self.binary, "the aocpipe binary is built next to the tests")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(), err = Pipe()
        p.standardOutput = stdout ?? out
        p.standardError = stderr ?? err
        try p.run()
        try out.fileHandleForWriting.close()
        try err.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// The write end of a pipe whose reader is gone (as after `| head -1` exits).
    static func closedPipe() throws -> FileHandle {
        let pipe = Pipe()
        try pipe.fileHandleForReading.close()
        return pipe.fileHandleForWriting
    }

    /// Usage errors exit 2 as the help says, in the one style of every error, with the nearest
    /// command suggested; a missing file says why.
    @Test func usageErrorsExit2InOneStyle() throws {
        let bach = try Self.run(["bach", "Pipelines/aoc1441.yaml"])
        #expect(bach.status == 2)
        #expect(bach.stderr.hasPrefix("aocpipe: error: unknown command 'bach'; did you mean 'batch'?"))
        for arguments in [["batch"], ["batch", "Pipelines/aoc1441.yaml", "--jobs", "0"],
                          ["batch", "Pipelines/aoc1441.yaml", "--frmat", "json"], ["follow", "--nope"],
                          ["generate", "--profile", "synthetic", "--out", "/tmp/x", "--days", "0"]] {
            let r = try Self.run(arguments)
            #expect(r.status == 2, "\(arguments)")
            #expect(r.stderr.hasPrefix("aocpipe: error: ") && !r.stderr.contains("Error:") && r.stderr.contains("--help"), "\(arguments): \(r.stderr)")
        }
        #expect(try Self.run(["batch", "Pipelines/aoc1441.yaml", "--frmat", "json"]).stderr.contains("Did you mean '--format'?"))
        let missing = try Self.run(["batch", "/nonexistent-aocpipe.yaml"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "aocpipe: error: /nonexistent-aocpipe.yaml: cannot read the pipeline file: No such file or directory\n")
        for help in [["--help"], ["help", "batch"], ["batch", "--help"], ["--version"]] {
            let r = try Self.run(help)
            #expect(r.status == 0 && !r.stdout.isEmpty && r.stderr.isEmpty, "\(help)")
        }
    }

    /// No silent zeros: a source whose lines are all skipped warns, naming the service numbers
    /// its lines call (never a phone number); `generate` will not write into a directory
    /// that holds files unless told to.
    @Test func aSourceThatCountsNothingSaysSoAndGenerateKeepsWhatIsThere() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let text = try String(contentsOfFile: packageRoot + "/Pipelines/aoc1441.yaml", encoding: .utf8)
            .replacingOccurrences(of: "hotline: \"1441\"", with: "hotline: \"9999\"")
            .replacingOccurrences(of: "SampleLogs/", with: packageRoot + "/SampleLogs/")
        let pipeline = dir.file("wrong-hotline.yaml", text)
        let r = try Self.run(["batch", pipeline])
        #expect(r.status == 0)
        #expect(r.stderr.contains("warning: source telephony: all 181444 line(s) were skipped, none counted (hotline 9999); the lines call 1441"), "\(r.stderr)")
        #expect(personalData(in: Array(r.stderr.replacingOccurrences(of: dir.path, with: "DIR").utf8)) == [])
        #expect(!r.stderr.contains("source freeze"))
        // generate: a directory with files is refused (exit 2, naming what is there), --force writes.
        let out = dir.path + "/logs"
        _ = dir.file("logs/keep.txt", "mine")
        let args = ["generate", "--profile", "synthetic", "--out", out, "--days", "1", "--calls-per-day", "10"]
        let refused = try Self.run(args)
        #expect(refused.status == 2)
        #expect(refused.stderr.hasPrefix("aocpipe: error: --out \(out) holds 1 entry (keep.txt)"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/truth.json"))
        #expect(try Self.run(args + ["--force"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: out + "/truth.json"))
        #expect(try String(contentsOfFile: out + "/keep.txt", encoding: .utf8) == "mine")
        #expect(try Self.run(["generate", "--profile", "synthetic", "--out", dir.path + "/new", "--days", "1", "--calls-per-day", "10"]).status == 0)
    }

    /// Output goes where its path points without destroying it: through a symlink (the link
    /// stays, its target gets the result), to a FIFO or device directly, `-` to stdout.
    @Test func outputsRespectWhatTheyPointAt() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let target = dir.file("target.json", "old")
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/link.json", withDestinationPath: "target.json")
        let linked = try Self.run(["batch", "Pipelines/aoc1441.yaml", "--format", "json", "-o", dir.path + "/link.json"])
        #expect(linked.status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.path + "/link.json") == "target.json")
        #expect(try String(contentsOfFile: target, encoding: .utf8).contains("\"accounts_frozen\":2671"))
        // A relative link in the current directory, relative to it.
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/here.csv", withDestinationPath: "there.csv")
        let pipeline = dir.file("p.yaml", try String(contentsOfFile: packageRoot + "/Pipelines/aoc1441.yaml", encoding: .utf8)
            .replacingOccurrences(of: "SampleLogs/", with: packageRoot + "/SampleLogs/"))
        #expect(try Self.run(["batch", pipeline, "--format", "csv", "-o", "here.csv"], in: dir.path).status == 0)
        #expect(try String(contentsOfFile: dir.path + "/there.csv", encoding: .utf8).hasPrefix("window,start"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.path + "/here.csv") == "there.csv")
        let stdout = try Self.run(["batch", "Pipelines/aoc1441.yaml", "--format", "csv", "-o", "-"])
        #expect(stdout.status == 0 && stdout.stdout.hasPrefix("window,start,end"))
        #expect(!FileManager.default.fileExists(atPath: packageRoot + "/-"))
        let devStdout = try Self.run(["batch", "Pipelines/aoc1441.yaml", "--format", "csv", "-o", "/dev/stdout"])
        #expect(devStdout.status == 0 && devStdout.stdout == stdout.stdout)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "/dev/stdout")) != nil, "/dev/stdout is still a link")
        // A FIFO is written, not replaced by a file.
        let fifo = dir.path + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/cat")
        reader.arguments = [fifo]
        let got = Pipe()
        reader.standardOutput = got
        try reader.run()
        let viaFifo = try Self.run(["batch", "Pipelines/aoc1441.yaml", "-o", fifo])
        let read = String(decoding: got.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        reader.waitUntilExit()
        #expect(viaFifo.status == 0 && read.contains("38,564"))
        var st = stat()
        #expect(stat(fifo, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO)
        // A device stays one (as root, a rename would have replaced /dev/full with a file).
        let full = try Self.run(["batch", "Pipelines/aoc1441.yaml", "-o", "/dev/full"])
        #expect(full.status == 1)
        #expect(full.stderr == "aocpipe: error: cannot write /dev/full: No space left on device\n")
        #expect(stat("/dev/full", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR)
    }

    /// Write errors are one line naming what and why, exit 1, never a trap with a backtrace;
    /// a closed pipe on stdout ends the run quietly.
    @Test func writeErrorsAreOneLineAndAClosedPipeIsQuiet() throws {
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let stdoutFull = try Self.run(["batch", "Pipelines/aoc1441.yaml"], stdout: full)
        #expect(stdoutFull.status == 1)
        #expect(stdoutFull.stderr == "aocpipe: error: cannot write standard output: No space left on device\n")
        let validateFull = try Self.run(["validate", "Pipelines/aoc1441.yaml"], stdout: full)
        #expect(validateFull.status == 1 && validateFull.stderr.contains("No space left on device"))
        // stderr full: nothing can say so, the status does (a run with a warning to give).
        let dir = TempDir()
        defer { dir.remove() }
        let warned = try Self.run(["batch", "Pipelines/aoc1441.yaml", "--checkpoint", dir.path + "/state"])
        #expect(warned.status == 0)
        let stderrFull = try Self.run(["batch", "Pipelines/aoc1441.yaml", "--checkpoint", dir.path + "/state"], stderr: full)
        #expect(stderrFull.status == 1)
        #expect(stderrFull.stdout.contains("38,564"))
        let piped = try Self.run(["batch", "Pipelines/aoc1441.yaml", "--format", "json"], stdout: try Self.closedPipe())
        #expect(piped.status == 0)
        #expect(piped.stderr.isEmpty)
        // A quarantine that cannot be written: said, and exit 1 after the report.
        let bad = dir.file("bad.csv", "not a cdr line\n")
        let pipeline = dir.file("p.yaml", "name: q\nsources:\n  - { name: t, format: asterisk-cdr, paths: [\"\(bad)\"] }\n")
        let q = try Self.run(["batch", pipeline, "--quarantine", "/dev/full"])
        #expect(q.status == 1)
        #expect(q.stderr.contains("cannot write /dev/full: No space left on device"))
        #expect(q.stdout.contains("q: "))
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
