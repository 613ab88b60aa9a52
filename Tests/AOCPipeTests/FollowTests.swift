import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// A running `aocpipe follow`, as an operator runs it: a process, signals, its JSON file sink.
final class Follower {
    let dir: String
    let pipeline: String
    let output: String
    /// The node_exporter textfile sink (Prometheus text format).
    let textfile: String
    let log: String
    var process: Process?
    var runs = 0

    /// `extra`: more top-level keys of the pipeline file (YAML lines).
    init(dir: String, sources: String, poll: String = "50ms", extra: String = "") throws {
        self.dir = dir
        output = dir + "/out.json"
        textfile = dir + "/aocpipe.prom"
        log = dir + "/follow.log"
        pipeline = dir + "/follow.yaml"
        try """
            name: follow-test
            timezone: Asia/Bangkok
            sources:
            \(sources)
            follow: { poll: \(poll), emit_every: 100ms }
            checkpoint: { path: \(dir)/state, every: 100ms }
            \(extra)
            sinks:
              - { type: file, format: json, path: \(output) }
              - { type: file, format: prometheus, windows: day, horizon: 60d, path: \(textfile) }
            """.write(toFile: pipeline, atomically: true, encoding: .utf8)
    }

    func start(environment: [String: String] = [:], arguments: [String] = []) throws {
        let binary = try #require(CommandLineTests.binary)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["follow", pipeline, "--log-level", "info"] + arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: log + ".\(runs)", contents: nil)
        p.standardError = FileHandle(forWritingAtPath: log + ".\(runs)")
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        process = p
        runs += 1
        // Ready once its first tick has run (signals are handled from then on).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: log + ".\(runs - 1)", encoding: .utf8), text.contains("ready") { return }
            usleep(10_000)
        }
        Issue.record("follow did not get ready")
    }

    /// Where `--listen 127.0.0.1:0` ended up, as its log says (`... listen=127.0.0.1:PORT`).
    func listenAddress() throws -> String {
        let text = try String(contentsOfFile: log + ".\(runs - 1)", encoding: .utf8)
        return try #require(text.split(separator: "\n").first { $0.contains("serving /metrics") }?
            .split(separator: "listen=").last.map { String($0.prefix { !$0.isWhitespace && $0 != "]" }) })
    }

    func kill9() {
        guard let p = process else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    /// SIGTERM, and the exit status.
    @discardableResult
    func stop() -> Int32 {
        guard let p = process else { return -1 }
        p.terminate()
        p.waitUntilExit()
        process = nil
        if p.terminationStatus != 0 || p.terminationReason != .exit {
            let text = (try? String(contentsOfFile: log + ".\(runs - 1)", encoding: .utf8)) ?? ""
            Issue.record("follow exited with \(p.terminationStatus) (\(p.terminationReason == .exit ? "exit" : "signal")): \(text.suffix(3000))")
        }
        return p.terminationStatus
    }

    var document: [String: Any]? {
        guard let data = FileManager.default.contents(atPath: output) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    /// Calls per day in the last emission.
    var callsPerDay: [String: Int] {
        guard let days = document?["days"] as? [[String: Any]] else { return [:] }
        var out: [String: Int] = [:]
        for d in days { if let day = d["day"] as? String, let c = d["calls"] as? Int, c > 0 { out[day] = c } }
        return out
    }

    /// Waits until the emitted calls per day equal `truth` (or a timeout); returns the last seen.
    func waitFor(_ truth: [String: Int], seconds: Double = 30) -> [String: Int] {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [String: Int] = [:]
        while Date() < deadline {
            last = callsPerDay
            if last == truth { return last }
            usleep(50_000)
        }
        return last
    }
}

/// An HTTP GET through python3 (Foundation's HTTP client is a module of its own): status and body.
func httpGet(_ url: String) throws -> (status: Int, body: String) {
    let script = """
        import sys, urllib.request, urllib.error
        try:
            r = urllib.request.urlopen(sys.argv[1], timeout=5); print(r.status); sys.stdout.write(r.read().decode())
        except urllib.error.HTTPError as e:
            print(e.code); sys.stdout.write(e.read().decode())
        """
    let r = try PrometheusTests.run("/usr/bin/env", ["python3", "-c", script, url])
    let lines = r.out.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    return (Int(lines.first ?? "") ?? -1, lines.count > 1 ? String(lines[1]) : "")
}

/// Writes hotline CDR lines as Asterisk would, counting what it wrote per Bangkok day.
final class CDRWriter {
    let path: String
    var handle: FileHandle
    var inode: UInt64
    var truth: [String: Int] = [:]
    var time = CivilTime.epochSeconds(year: 2023, month: 11, day: 1, hour: 0, minute: 0, second: 0) - 7 * 3600
    var sequence = 0

    init(path: String) throws {
        self.path = path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        handle = try #require(FileHandle(forWritingAtPath: path))
        inode = InputFile.identity(of: path)!.inode
    }

    /// Appends `n` lines (one write each, as Asterisk flushes per call).
    func write(_ n: Int) {
        for _ in 0..<n {
            time += 37  // about 2,300 calls a day: several days per test
            sequence += 1
            let call = GeneratedCall(src: 812_000_000 + sequence, dst: "1441", dcontext: "aoc-hotline", start: time,
                                     answer: time + 10, end: time + 100, disposition: "ANSWERED", agent: 1, sequence: sequence)
            var line: [UInt8] = []
            call.append(to: &line, offset: 7 * 3600)
            handle.seekToEndOfFile()
            handle.write(Data(line))
            truth[Text.localDate(time, offset: 7 * 3600), default: 0] += 1
        }
    }

    /// After a rotation that moved the file, open the new one (Asterisk's `logger reload`).
    func reopenIfRotated() throws {
        guard let id = InputFile.identity(of: path), id.inode == inode else {
            try handle.close()
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            handle = try #require(FileHandle(forWritingAtPath: path))
            inode = InputFile.identity(of: path)!.inode
            return
        }
    }
}

/// Runs the real logrotate, with its own config and state file.
func logrotate(dir: String, log: String, mode: String) throws {
    let config = dir + "/logrotate.conf"
    try """
        \(log) {
            rotate 1000
            missingok
            notifempty
            \(mode)
        }
        """.write(toFile: config, atomically: true, encoding: .utf8)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/sbin/logrotate")
    p.arguments = ["-f", "-s", dir + "/logrotate.state", config]
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0, "logrotate \(mode)")
}

@Suite(.serialized) struct FollowTests {

    /// A CDR log at `log` with its writer, and a follower (not started) of `Master.csv*` beside it.
    static func followedCDRLog(_ log: String, in dir: TempDir, poll: String = "50ms") throws -> (Follower, CDRWriter) {
        let f = try Follower(dir: dir.path, sources: """
              - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/Master.csv*"] }
            """, poll: poll)
        return (f, try CDRWriter(path: log))
    }

    @Test func followThenStopEqualsBatchOnTheSampleLogs() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let f = try Follower(dir: dir.path, sources: """
              - { name: telephony, format: asterisk-cdr, paths: ["\(packageRoot)/SampleLogs/telephony/Master.csv*"] }
              - { name: freeze, format: freeze-jsonl, paths: ["\(packageRoot)/SampleLogs/freeze/freeze.jsonl*"] }
            """)
        try f.start()
        let published = Dictionary(uniqueKeysWithValues: zip((1...14).map { String(format: "2023-11-%02d", $0) },
                                                             AOC1441Profile.published.map(\.calls)))
        #expect(f.waitFor(published) == published)
        #expect(f.stop() == 0)
        let follow = try #require(f.document)
        let config = try PipelineConfig.load(path: f.pipeline)
        let batch = try JSONSerialization.jsonObject(with: Data(Renderer.json(
            BatchRunner(config: config, progress: .never).run().report).utf8)) as? [String: Any]
        #expect(NSDictionary(dictionary: follow).value(forKey: "days") as? NSArray == (batch?["days"] as? NSArray))
        #expect(NSDictionary(dictionary: follow).value(forKey: "hours") as? NSArray == (batch?["hours"] as? NSArray))
        // The node_exporter textfile sink: the same days, and nothing promtool objects to.
        let prom = try String(contentsOfFile: f.textfile, encoding: .utf8)
        for (day, published) in AOC1441Profile.published.enumerated() {
            #expect(prom.contains("aocpipe_window_accounts_frozen{window=\"day\",start=\"2023-11-\(Text.pad(day + 1, 2))\"} \(published.frozen)\n"))
        }
        if SystemTool.promtool.isInstalled || SystemTool.required {
            let check = try PrometheusTests.run(PrometheusTests.promtool, ["check", "metrics"], input: prom)
            #expect(check.status == 0 && check.out.isEmpty && check.err.isEmpty, "\(check.out)\(check.err)")
        }
        // A restart from the checkpoint counts nothing twice.
        try f.start()
        usleep(500_000)
        #expect(f.stop() == 0)
        #expect((f.document?["days"] as? NSArray) == (batch?["days"] as? NSArray))
    }

    @Test func metricsEndpointAndHealthOfSourcesAndCheckpoints() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let (f, writer) = try Self.followedCDRLog(dir.path + "/Master.csv", in: dir)
        writer.write(300)
        try f.start(arguments: ["--listen", "127.0.0.1:0"])
        defer { f.stop() }
        #expect(f.waitFor(writer.truth) == writer.truth)
        let base = "http://\(try f.listenAddress())"

        // /metrics: the windows as emitted, valid for promtool; nothing else answers.
        var metrics = try httpGet(base + "/metrics")
        let deadline = Date().addingTimeInterval(10)
        while !writer.truth.allSatisfy({ metrics.body.contains("aocpipe_window_calls{window=\"day\",start=\"\($0.key)\"} \($0.value)\n") }),
              Date() < deadline {
            usleep(100_000)
            metrics = try httpGet(base + "/metrics")
        }
        #expect(metrics.status == 200)
        for (day, calls) in writer.truth { #expect(metrics.body.contains("aocpipe_window_calls{window=\"day\",start=\"\(day)\"} \(calls)\n")) }
        #expect(metrics.body.contains("aocpipe_last_checkpoint_timestamp_seconds "))
        #expect(metrics.body.contains("aocpipe_files_open 1\n"))
        let today = try #require(writer.truth.keys.max())
        #expect(metrics.body.contains("aocpipe_rolling_calls{window=\"today\"} \(writer.truth[today]!)\n"))
        #expect(metrics.body.contains("aocpipe_rotations_total 0\n"))
        #expect(metrics.body.contains("aocpipe_source_lag_bytes{source=\"telephony\"} 0\n"))
        if SystemTool.promtool.isInstalled || SystemTool.required {
            let check = try PrometheusTests.run(PrometheusTests.promtool, ["check", "metrics"], input: metrics.body)
            #expect(check.status == 0 && check.out.isEmpty && check.err.isEmpty, "\(check.out)\(check.err)")
        }
        #expect(try httpGet(base + "/other").status == 404)

        func waitForHealth(_ status: Int) throws -> (status: Int, body: String) {
            var h = try httpGet(base + "/healthz")
            let deadline = Date().addingTimeInterval(15)
            while h.status != status && Date() < deadline { usleep(100_000); h = try httpGet(base + "/healthz") }
            return h
        }
        #expect(try waitForHealth(200) == (200, "ok\n"))
        // The source's only file goes away: 503 with the reason; back again: 200.
        try FileManager.default.moveItem(atPath: writer.path, toPath: dir.path + "/elsewhere.txt")
        let gone = try waitForHealth(503)
        #expect(gone.status == 503)
        #expect(gone.body.contains("source telephony: no file matches"))
        try FileManager.default.moveItem(atPath: dir.path + "/elsewhere.txt", toPath: writer.path)
        #expect(try waitForHealth(200).status == 200)
        // Checkpoints stop (a folder stands where the file goes): 503; written again: 200.
        let state = dir.path + "/state"
        // follow writes a new checkpoint every 100 ms: retry until the folder wins the race.
        var blocked = false
        for _ in 0..<100 where !blocked {
            try? FileManager.default.removeItem(atPath: state)
            blocked = (try? FileManager.default.createDirectory(atPath: state + "/blocked", withIntermediateDirectories: true)) != nil
        }
        try #require(blocked)
        let stalled = try waitForHealth(503)
        #expect(stalled.body.contains("checkpoint not written"), "\(stalled.body)")
        try FileManager.default.removeItem(atPath: state)
        #expect(try waitForHealth(200).status == 200)
    }

    /// Each of logrotate's modes, rotating every 0.3 s under 2,000 lines/s (dateext every
    /// 1.1 s: its names have a one-second resolution).
    @Test(.enabled(if: SystemTool.logrotate.runs, SystemTool.logrotate.skipNote),
          arguments: ["create", "compress", "delaycompress\n    compress", "dateext\n    dateformat -%s\n    compress", "copytruncate"])
    func rotationLosesAndDoublesNothing(mode: String) throws {
        let slow = mode.hasPrefix("dateext")
        try #require(SystemTool.logrotate.isInstalled, SystemTool.logrotate.missing)
        let dir = TempDir()
        defer { dir.remove() }
        let log = dir.path + "/Master.csv"
        let (f, writer) = try Self.followedCDRLog(log, in: dir)
        writer.write(50)
        try f.start()
        // 2,000 lines a second in 20-line writes, rotating every 0.3 s.
        for round in 0..<(slow ? 5 : 12) {
            for _ in 0..<(slow ? 105 : 15) { writer.write(20); usleep(10_000) }
            try logrotate(dir: dir.path, log: log, mode: mode)
            try writer.reopenIfRotated()
            if round == 5 { usleep(300_000) }  // let the follower catch up once mid-way
        }
        writer.write(20)
        let seen = f.waitFor(writer.truth)
        #expect(seen == writer.truth, "mode \(mode)")
        #expect(f.stop() == 0)
        let input = f.document?["input"] as? [String: Any]
        #expect(input?["malformed"] as? Int == 0)
        #expect(f.callsPerDay == writer.truth)
    }

    @Test(.enabled(if: SystemTool.logrotate.runs, SystemTool.logrotate.skipNote))
    func killedTwentyTimesWhileWritingAndRotatingEndsExact() throws {
        try #require(SystemTool.logrotate.isInstalled, SystemTool.logrotate.missing)
        let dir = TempDir()
        defer { dir.remove() }
        let log = dir.path + "/Master.csv"
        let (f, writer) = try Self.followedCDRLog(log, in: dir)
        var rng = SystemRandomNumberGenerator()
        let modes = ["delaycompress\n    compress", "create", "copytruncate", "compress"]
        try f.start()
        for kill in 0..<20 {
            for _ in 0..<Int.random(in: 1...8, using: &rng) { writer.write(20); usleep(5_000) }
            if kill % 3 == 0 {
                try logrotate(dir: dir.path, log: log, mode: modes[kill / 3 % modes.count])
                try writer.reopenIfRotated()
            }
            usleep(UInt32.random(in: 0...150_000, using: &rng))
            f.kill9()
            writer.write(Int.random(in: 0...40, using: &rng))
            try f.start()
        }
        writer.write(10)
        #expect(f.waitFor(writer.truth) == writer.truth)
        #expect(f.stop() == 0)
        #expect(f.callsPerDay == writer.truth)
        let input = f.document?["input"] as? [String: Any]
        #expect(input?["malformed"] as? Int == 0)
    }

    /// A crash inside the checkpoint write itself (after the new state is on disk under its
    /// temporary name, or just after the rename): the restart ends with exact counts.
    @Test(arguments: ["before-rename:3", "after-rename:3", "before-rename:1"])
    func crashInsideTheCheckpointWrite(point: String) throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = dir.path + "/Master.csv"
        let (f, writer) = try Self.followedCDRLog(log, in: dir)
        writer.write(300)
        try f.start(environment: ["AOCPIPE_TEST_CRASH_IN_CHECKPOINT": point])
        for _ in 0..<10 { writer.write(20); usleep(30_000) }
        let p = try #require(f.process)
        p.waitUntilExit()
        #expect(p.terminationStatus == 137, "died inside checkpoint write \(point)")
        f.process = nil
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".state.tmp-") }
        #expect(leftovers.isEmpty == point.hasPrefix("after"), "a temp file is left only by a crash before the rename")
        writer.write(100)
        try f.start()
        writer.write(50)
        #expect(f.waitFor(writer.truth) == writer.truth)
        #expect(f.stop() == 0)
        #expect(f.callsPerDay == writer.truth)
        let after = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".state.tmp-") }
        #expect(after.isEmpty, "the restart cleared what the crash left")
    }

    /// With a 10 s poll, new lines still arrive within moments: inotify wakes the loop.
    @Test func inotifyWakesTheLoopBeforeThePoll() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let (f, writer) = try Self.followedCDRLog(dir.path + "/Master.csv", in: dir, poll: "10s")
        writer.write(10)
        try f.start()
        #expect(f.waitFor(writer.truth, seconds: 3) == writer.truth)
        for _ in 0..<3 {
            usleep(300_000)
            writer.write(25)
            #expect(f.waitFor(writer.truth, seconds: 3) == writer.truth, "counted long before the next poll")
        }
        #expect(f.stop() == 0)
    }
}
