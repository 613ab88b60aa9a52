import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

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
        // Follow's checkpoint holds no log content either (fingerprints are hashes).
        #expect(personalData(in: try Array(Data(contentsOf: URL(fileURLWithPath: dir.path + "/state")))) == [])
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
        while !writer.truth.allSatisfy({ metrics.body.contains("aocpipe_window_calls{window=\"day\",start=\"\($0.key)\"} \($0.value)\n") })
                || !metrics.body.contains("aocpipe_last_checkpoint_timestamp_seconds "),
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
          arguments: ["create", "compress", "delaycompress\n    compress", "dateext\n    dateformat -%s\n    compress", "copytruncate"],
          [nil, 2])
    /// `overflowEvery`: every so many inotify batches are lost as in a queue overflow (the
    /// follower is told, as the kernel tells it, and looks at everything again).
    func rotationLosesAndDoublesNothing(mode: String, overflowEvery: Int?) throws {
        let slow = mode.hasPrefix("dateext")
        try #require(SystemTool.logrotate.isInstalled, SystemTool.logrotate.missing)
        let dir = TempDir()
        defer { dir.remove() }
        let log = dir.path + "/Master.csv"
        let (f, writer) = try Self.followedCDRLog(log, in: dir)
        writer.write(50)
        try f.start(environment: overflowEvery.map { ["AOCPIPE_TEST_INOTIFY_DROP_EVERY": "\($0)"] } ?? [:])
        // 2,000 lines a second in 20-line writes, rotating every 0.3 s.
        for round in 0..<(slow ? 5 : 12) {
            for _ in 0..<(slow ? 105 : 15) { writer.write(20); usleep(10_000) }
            try logrotate(dir: dir.path, log: log, mode: mode)
            try writer.reopenIfRotated()
            if round == 5 { usleep(300_000) }  // let the follower catch up once mid-way
        }
        writer.write(20)
        let seen = f.waitFor(writer.truth)
        #expect(seen == writer.truth, "mode \(mode), overflow every \(overflowEvery ?? 0)")
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

    /// rsyslog's `zipLevel` writes one gzip member all day. Killed at any moment and restarted,
    /// the follower goes on from the access point its checkpoint holds inside that member:
    /// each call counted once, and the member's trailer still checked when it ends.
    @Test func aRestartInsideAGrowingGzipCountsEachLineOnce() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let f = try Follower(dir: dir.path, sources: """
              - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/Master.csv*"] }
            """)
        let writer = try CDRWriter(path: dir.path + "/Master.csv.gz", gzipLevel: 6)
        let config = try PipelineConfig.load(path: f.pipeline)
        var rng = SystemRandomNumberGenerator()
        var inside = 0
        for round in 0..<8 {
            writer.write(Int.random(in: 50...400, using: &rng))
            try f.start()
            for _ in 0..<Int.random(in: 1...6, using: &rng) { writer.write(30); usleep(20_000) }
            usleep(UInt32.random(in: 0...300_000, using: &rng))
            f.kill9()
            let state = try #require(try Checkpoint.load(from: dir.path + "/state", for: config), "round \(round)")
            let position = try #require(state.files.first)
            if let access = position.resume.access {
                #expect(access.memberStart == 0 && position.resume.fileOffset > 0 && position.resume.decodedOffset <= position.decodedOffset)
                inside += 1
            }
        }
        #expect(inside >= 4, "most checkpoints go on inside the member (\(inside) of 8)")
        writer.write(100)
        try writer.finish()
        try f.start()
        #expect(f.waitFor(writer.truth) == writer.truth)
        #expect(f.stop() == 0)
        #expect(f.callsPerDay == writer.truth)
        let input = f.document?["input"] as? [String: Any]
        #expect(input?["malformed"] as? Int == 0)
        let logs = (0..<f.runs).compactMap { try? String(contentsOfFile: f.log + ".\($0)", encoding: .utf8) }.joined()
        #expect(!logs.contains("gzip member"), "no damage: the trailer matched what was decoded across the restarts")
    }

    /// A crash inside the checkpoint write itself (after the new state is on disk under its
    /// temporary name, or just after the rename): the restart ends with exact counts.
    /// Write 1 of a run is a base (`before-rename`: its temp file written; `after-rename`: renamed,
    /// its journal not started); write 3 a journal record (half of it written, or all of it).
    @Test(arguments: ["before-rename:3", "after-rename:3", "before-rename:1", "after-rename:1"])
    func crashInsideTheCheckpointWrite(point: String) throws {
        let dir = TempDir()
        defer { dir.remove() }
        let log = dir.path + "/Master.csv"
        let (f, writer) = try Self.followedCDRLog(log, in: dir)
        writer.write(300)
        try f.start(environment: ["AOCPIPE_TEST_CRASH_IN_CHECKPOINT": point])
        let p = try #require(f.process)
        // Lines keep coming until it dies: a checkpoint is written only when something changed.
        for _ in 0..<200 where p.isRunning { writer.write(20); usleep(30_000) }
        p.waitUntilExit()
        #expect(p.terminationStatus == 137, "died inside checkpoint write \(point)")
        f.process = nil
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".state.tmp-") }
        #expect(leftovers.isEmpty == (point != "before-rename:1"), "a temp file is left only by a crash before a base's rename")
        writer.write(100)
        try f.start()
        writer.write(50)
        #expect(f.waitFor(writer.truth) == writer.truth)
        #expect(f.stop() == 0)
        #expect(f.callsPerDay == writer.truth)
        let after = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".state.tmp-") }
        #expect(after.isEmpty, "the restart cleared what the crash left")
    }

    /// A jsonl sink that cannot write (its link points at /dev/full) keeps what changed and
    /// sends it once it can: the day written while it failed is in the file afterwards, though
    /// it did not change again.
    @Test func aJsonlSinkSendsAgainWhatChangedWhileItFailed() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let link = dir.path + "/windows.jsonl"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/full")
        let f = try Follower(dir: dir.path, sources: """
              - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/Master.csv*"] }
            """, sinks: "  - { type: file, format: jsonl, windows: day, path: \(link) }")
        let writer = try CDRWriter(path: dir.path + "/Master.csv")
        writer.write(50)  // 1 November
        try f.start()
        #expect(f.waitFor(writer.truth) == writer.truth)
        usleep(300_000)  // emissions every 100 ms, each failing
        try FileManager.default.removeItem(atPath: link)
        let real = dir.file("real.jsonl", "")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        writer.time += 2 * 86_400  // then only 3 November changes
        writer.write(20)
        #expect(f.waitFor(writer.truth) == writer.truth)
        usleep(300_000)
        #expect(f.stop() == 0)
        let lines = try String(contentsOfFile: real, encoding: .utf8).split(separator: "\n")
        var calls: [String: Int] = [:]
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            if let day = object["day"] as? String { calls[day] = object["calls"] as? Int }
        }
        #expect(calls.filter { $0.value > 0 } == writer.truth)
        let log = try String(contentsOfFile: f.log + ".0", encoding: .utf8)
        #expect(log.contains("cannot emit") && log.contains("No space left on device"))
    }

    /// On a full disk (here `ulimit -f`), an append sink writes whole lines or none: the file
    /// never ends in half a line, every line is JSON; the follower logs why and stops cleanly.
    @Test func aFullDiskLeavesNoHalfLineInAnAppendSink() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let sink = dir.path + "/windows.jsonl"
        let f = try Follower(dir: dir.path, sources: """
              - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/Master.csv*"] }
            """, sinks: "  - { type: file, format: jsonl, windows: hour, path: \(sink) }")
        let writer = try CDRWriter(path: dir.path + "/Master.csv")
        try f.start(fileSizeLimit: 64)  // 32 KiB
        var log = ""
        for _ in 0..<40 where !log.contains("cannot write \(sink): File too large") {
            writer.write(1000)
            usleep(200_000)
            log = (try? String(contentsOfFile: f.log + ".0", encoding: .utf8)) ?? ""
        }
        #expect(f.stop() == 0)
        #expect(log.contains("cannot write \(sink): File too large"))
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: sink)))
        #expect(!bytes.isEmpty && bytes.last == 0x0A)
        for line in bytes.split(separator: 0x0A) {
            #expect((try? JSONSerialization.jsonObject(with: Data(line))) != nil, "\(String(decoding: line, as: UTF8.self))")
        }
    }

    /// The checkpoint never passes lines whose quarantine samples were not written: with the
    /// quarantine unwritable there is no checkpoint, and a restart that can write it keeps the
    /// sample and counts every call once.
    @Test func theCheckpointWaitsForTheQuarantine() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let link = dir.path + "/quarantine.jsonl"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/full")
        let (f, writer) = try { () throws -> (Follower, CDRWriter) in
            let f = try Follower(dir: dir.path, sources: """
                  - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/Master.csv*"] }
                """, extra: "quarantine: { path: \(link) }")
            return (f, try CDRWriter(path: dir.path + "/Master.csv"))
        }()
        writer.write(10)
        writer.handle.write(Data("a damaged line\n".utf8))
        writer.write(10)
        try f.start()
        #expect(f.waitFor(writer.truth) == writer.truth)
        #expect(f.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/state"))
        #expect(try String(contentsOfFile: f.log + ".0", encoding: .utf8).contains("the checkpoint waits for it"))
        try FileManager.default.removeItem(atPath: link)
        try f.start()
        #expect(f.waitFor(writer.truth) == writer.truth)
        #expect(f.stop() == 0)
        #expect(FileManager.default.fileExists(atPath: dir.path + "/state"))
        #expect(try String(contentsOfFile: link, encoding: .utf8).contains("a damaged line"))
    }

    /// A follower whose stdout reader went away stops as on SIGTERM, quietly: exit 0, its
    /// checkpoint written.
    @Test func aClosedStdoutStopsAFollowerCleanly() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let writer = try CDRWriter(path: dir.path + "/Master.csv")
        writer.write(10)
        let pipeline = dir.file("p.yaml", """
            name: stdout-test
            sources:
              - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/Master.csv*"] }
            follow: { poll: 50ms, emit_every: 100ms }
            checkpoint: { path: \(dir.path)/state, every: 100ms }
            """)
        let r = try CommandLineTests.run(["follow", pipeline], stdout: try CommandLineTests.closedPipe())
        #expect(r.status == 0)
        #expect(r.stderr.contains("standard output was closed: stopping") && !r.stderr.contains("error"))
        #expect(FileManager.default.fileExists(atPath: dir.path + "/state"))
    }

    /// Listen addresses: `:PORT` is every interface; a port out of range or a duration too long
    /// is a usage error naming the value (exit 2); a port in use says so plainly (exit 1).
    @Test func listenAddressesAndDurationsOutOfRange() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let (f, writer) = try Self.followedCDRLog(dir.path + "/Master.csv", in: dir)
        writer.write(5)
        try f.start(arguments: ["--listen", ":0"])
        defer { f.stop() }
        let address = try f.listenAddress()
        let port = try #require(address.split(separator: ":").last.map(String.init))
        #expect(address.hasPrefix("[::]:") || address.hasPrefix("0.0.0.0:"), "every interface: \(address)")
        #expect(try httpGet("http://127.0.0.1:\(port)/healthz").status == 200)
        let other = dir.file("other.yaml", try String(contentsOfFile: f.pipeline, encoding: .utf8)
            .replacingOccurrences(of: dir.path + "/state", with: dir.path + "/other-state"))
        let inUse = try CommandLineTests.run(["follow", other, "--listen", "127.0.0.1:\(port)"])
        #expect(inUse.status == 1)
        #expect(inUse.stderr.contains("cannot listen on 127.0.0.1:\(port): Address already in use\n"), "\(inUse.stderr)")
        for (flag, value, says) in [("--listen", "127.0.0.1:99999", "port \"99999\" is not a number from 0 to 65535"),
                                    ("--listen", "localhost", "\"localhost\" is not HOST:PORT"),
                                    ("--emit-every", "300000d", "\"300000d\" is longer than the longest duration taken, 36500d")] {
            let r = try CommandLineTests.run(["follow", other, flag, value])
            #expect(r.status == 2, "\(flag) \(value)")
            #expect(r.stderr.hasPrefix("aocpipe: error: \(flag): ") && r.stderr.contains(says) && r.stderr.split(separator: "\n").count == 1,
                    "\(r.stderr)")
        }
        let long = dir.file("long.yaml", "name: x\nsources:\n  - { name: t, format: asterisk-cdr, paths: [\"\(dir.path)/Master.csv\"] }\naggregate: { retention: 300000d }\n")
        let r = try CommandLineTests.run(["batch", long])
        #expect(r.status == 2)
        #expect(r.stderr.contains("long.yaml:4: aggregate.retention: \"300000d\" is longer than the longest duration taken"), "\(r.stderr)")
        let badSink = dir.file("sink.yaml", "name: x\nsources:\n  - { name: t, format: asterisk-cdr, paths: [\"\(dir.path)/Master.csv\"] }\nsinks:\n  - { type: http, listen: \"0.0.0.0:70000\" }\n")
        let s = try CommandLineTests.run(["validate", badSink])
        #expect(s.status == 2 && s.stderr.contains("listen: \"0.0.0.0:70000\": port \"70000\" is not a number from 0 to 65535"), "\(s.stderr)")
    }

    /// A follower whose source counts nothing (a wrong hotline number) says so once, naming
    /// the number its lines call.
    @Test func aFollowedSourceThatCountsNothingSaysSo() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let f = try Follower(dir: dir.path, sources: """
              - { name: telephony, format: asterisk-cdr, hotline: ["9999"], paths: ["\(dir.path)/Master.csv*"] }
            """)
        let writer = try CDRWriter(path: dir.path + "/Master.csv")
        writer.write(1200)
        try f.start()
        var log = ""
        for _ in 0..<100 where !log.contains("were skipped") {
            usleep(50_000)
            log = (try? String(contentsOfFile: f.log + ".0", encoding: .utf8)) ?? ""
        }
        writer.write(1200)
        usleep(300_000)
        #expect(f.stop() == 0)
        log = try String(contentsOfFile: f.log + ".0", encoding: .utf8)
        #expect(log.contains("source telephony: all 1200 line(s) were skipped, none counted (hotline 9999); the lines call 1441"), "\(log)")
        #expect(log.components(separatedBy: "were skipped").count == 2)
        // (The temporary directory's name is a UUID, whose hex digits may run to ten.)
        #expect(personalData(in: Array(log.replacingOccurrences(of: dir.path, with: "DIR").utf8)) == [])
    }

    /// SIGHUP reloads the pipeline file: a valid one takes effect at once (a new sink), a
    /// broken one or one that changes what counts mean is refused with the reason and the
    /// running pipeline stays; SIGUSR1 and SIGUSR2 do nothing. Counting goes on exact.
    @Test func sighupReloadsThePipelineAndRefusesWhatWouldBreakIt() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let (f, writer) = try Self.followedCDRLog(dir.path + "/Master.csv", in: dir)
        writer.write(50)
        try f.start()
        #expect(f.waitFor(writer.truth) == writer.truth)
        let pid = try #require(f.process?.processIdentifier)
        let original = try String(contentsOfFile: f.pipeline, encoding: .utf8)
        func log() -> String { (try? String(contentsOfFile: f.log + ".0", encoding: .utf8)) ?? "" }
        func hangUp(waitingFor text: String) {
            let before = log().components(separatedBy: text).count
            kill(pid, SIGHUP)
            for _ in 0..<250 where log().components(separatedBy: text).count == before { usleep(20_000) }
        }
        // Valid: a jsonl sink added takes effect without a restart.
        let jsonl = dir.path + "/added.jsonl"
        try (original + "  - { type: file, format: jsonl, windows: day, path: \(jsonl) }\n").write(toFile: f.pipeline, atomically: true, encoding: .utf8)
        hangUp(waitingFor: "reloaded the pipeline file")
        writer.write(10)
        #expect(f.waitFor(writer.truth) == writer.truth)
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: jsonl) { usleep(20_000) }
        #expect(try String(contentsOfFile: jsonl, encoding: .utf8).contains("\"calls\":60"))
        // Broken YAML, and a changed hotline: refused, the running one stays.
        try "name: follow-test\nsources: [".write(toFile: f.pipeline, atomically: true, encoding: .utf8)
        hangUp(waitingFor: "reload refused")
        try original.replacingOccurrences(of: "format: asterisk-cdr,", with: "format: asterisk-cdr, hotline: [\"1202\"],")
            .write(toFile: f.pipeline, atomically: true, encoding: .utf8)
        hangUp(waitingFor: "changes what the counts mean")
        kill(pid, SIGUSR1)
        kill(pid, SIGUSR2)
        writer.write(10)
        #expect(f.waitFor(writer.truth) == writer.truth)
        #expect(f.process?.isRunning == true)
        #expect(f.stop() == 0)
        let text = log()
        #expect(text.components(separatedBy: "reload refused").count == 3, "\(text)")
        #expect(text.contains("follow.yaml:3: not valid YAML"), "the YAML error names its line")
        #expect(f.callsPerDay == writer.truth)
    }

    /// No client holds the endpoint: under `ulimit -n 256`, 300 idle connections leave
    /// `/healthz` answering and descriptors for new logs (at most 64 are kept, the longest idle
    /// closed first); a head sent a byte at a time is cut at the header timeout; an idle
    /// keep-alive connection at the idle timeout.
    @Test func theEndpointCannotBeHeldOpen() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let (f, writer) = try Self.followedCDRLog(dir.path + "/Master.csv", in: dir)
        writer.write(20)
        try f.start(environment: ["AOCPIPE_TEST_HTTP_TIMEOUTS": "1s,2s"], arguments: ["--listen", "127.0.0.1:0"], openFiles: 256)
        defer { f.stop() }
        #expect(f.waitFor(writer.truth) == writer.truth)
        let address = try f.listenAddress()
        let port = try #require(Int(address.split(separator: ":").last ?? ""))
        func isOpen(_ fd: Int32) -> Bool {
            var byte: UInt8 = 0
            let n = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
        }
        var idle: [Int32] = []
        defer { idle.forEach { close($0) } }
        for _ in 0..<300 {
            let fd = connectTCP("127.0.0.1", port)
            if fd >= 0 { idle.append(fd) }
        }
        #expect(try httpGet("http://\(address)/healthz").status == 200)
        usleep(200_000)
        let stillOpen = idle.filter(isOpen).count
        #expect(stillOpen <= 64, "\(stillOpen) idle connections held")
        // A new log is still opened and counted (descriptors were left for it).
        let rotated = try CDRWriter(path: dir.path + "/Master.csv.1")
        rotated.time = writer.time
        rotated.write(15)
        var truth = writer.truth
        for (day, n) in rotated.truth { truth[day, default: 0] += n }
        #expect(f.waitFor(truth) == truth)
        idle.forEach { close($0) }
        idle = []
        // Slowloris: a header byte every 200 ms is cut off at the 1 s header timeout.
        let slow = connectTCP("127.0.0.1", port)
        defer { close(slow) }
        let started = Date()
        for byte in Array("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 40) {
            var b = byte
            if send(slow, &b, 1, Int32(MSG_NOSIGNAL)) != 1 { break }
            usleep(200_000)
            if !isOpen(slow) { break }
        }
        #expect(!isOpen(slow))
        // Sent whole, the head would have taken 15 s: it was cut well before, by the timeout.
        #expect(Date().timeIntervalSince(started) < 8, "closed at the header timeout")
        // Keep-alive: answered, then closed once idle for 2 s.
        let keep = connectTCP("127.0.0.1", port)
        defer { close(keep) }
        let request = Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(keep, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        #expect(recv(keep, &buffer, buffer.count, 0) > 0)
        usleep(500_000)
        #expect(isOpen(keep), "kept alive within the idle timeout")
        var closedAfter = 0.0
        let idleStart = Date()
        while isOpen(keep) && Date().timeIntervalSince(idleStart) < 15 { usleep(100_000) }
        closedAfter = Date().timeIntervalSince(idleStart)
        #expect(!isOpen(keep), "closed once idle (after \(closedAfter) s)")
    }

    /// While nothing changes, nothing is written: the checkpoint file stays the same inode
    /// (every write renames a new one in), its age metric stays fresh and /healthz 200; a new
    /// line writes it again.
    @Test func anIdleFollowerWritesNoCheckpoint() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let (f, writer) = try Self.followedCDRLog(dir.path + "/Master.csv", in: dir)
        writer.write(30)
        try f.start(arguments: ["--listen", "127.0.0.1:0"])
        defer { f.stop() }
        #expect(f.waitFor(writer.truth) == writer.truth)
        let state = dir.path + "/state"
        /// The base's inode and the journal's size: what any checkpoint write changes.
        func written() -> [UInt64]? {
            guard let base = InputFile.identity(of: state)?.inode, let journal = InputFile.pathStatus(of: state + ".journal") else { return nil }
            return [base, UInt64(journal.size)]
        }
        for _ in 0..<100 where written() == nil { usleep(20_000) }
        usleep(300_000)  // the reads settle
        let settled = written()
        #expect(settled != nil)
        usleep(1_500_000)  // fifteen checkpoint intervals, nothing new
        #expect(written() == settled, "no checkpoint written while idle")
        let base = "http://\(try f.listenAddress())"
        #expect(try httpGet(base + "/healthz").status == 200)
        let stamp = try httpGet(base + "/metrics").body.split(separator: "\n")
            .first { $0.hasPrefix("aocpipe_last_checkpoint_timestamp_seconds ") }.flatMap { Int($0.split(separator: " ")[1]) }
        #expect(stamp.map { abs($0 - Int(Date().timeIntervalSince1970)) <= 2 } == true, "confirmed current while idle")
        func bytesWritten() throws -> Int? {
            try httpGet(base + "/metrics").body.split(separator: "\n")
                .first { $0.hasPrefix("aocpipe_checkpoint_written_bytes_total ") }.flatMap { Int($0.split(separator: " ")[1]) }
        }
        let idleBytes = try #require(try bytesWritten())
        #expect(idleBytes > 0)
        writer.write(1)
        for _ in 0..<100 where written() == settled { usleep(20_000) }
        #expect(written() != settled, "a new line is checkpointed")
        var grown = idleBytes
        for _ in 0..<50 where grown == idleBytes { usleep(50_000); grown = try bytesWritten() ?? idleBytes }
        #expect(grown > idleBytes, "the bytes it cost are counted")
    }

    /// inotify says which file was written, and only that one is read; a file matched through
    /// a symlink into another directory (whose writes inotify does not see here) is still read
    /// within moments, not at the next full look (10 s).
    @Test func writtenFilesAreReadAtOnceEvenThroughASymlink() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let elsewhere = TempDir()
        defer { elsewhere.remove() }
        let f = try Follower(dir: dir.path, sources: """
              - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/Master.csv*"] }
            """)
        let direct = try CDRWriter(path: dir.path + "/Master.csv")
        let target = try CDRWriter(path: elsewhere.path + "/real.csv")
        target.sequence = 100_000  // other call ids; the same hours (one source's stream)
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/Master.csv.link", withDestinationPath: elsewhere.path + "/real.csv")
        direct.write(5)
        target.write(5)
        try f.start()
        var truth = direct.truth
        for (day, n) in target.truth { truth[day, default: 0] += n }
        #expect(f.waitFor(truth, seconds: 3) == truth)
        for _ in 0..<3 {
            direct.write(7)
            target.write(7)
            truth = direct.truth
            for (day, n) in target.truth { truth[day, default: 0] += n }
            #expect(f.waitFor(truth, seconds: 3) == truth, "read before the next full look")
        }
        #expect(f.stop() == 0)
    }

    /// Descriptors follow activity: 1,500 files not written for an hour (a third gzip, their
    /// one member complete), under `ulimit -n 256`, are all read (adopted as descriptors allow,
    /// parked once read), leave the follower with few descriptors open, and a plain and a gzip
    /// one written again (a line; a member) are read on; a restart counts nothing twice.
    @Test func descriptorsFollowActivityNotTheNumberOfFiles() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let start = CivilTime.epochSeconds(year: 2023, month: 11, day: 1, hour: 0, minute: 0, second: 0) - 7 * 3600
        func line(_ k: Int) -> Data {
            let call = GeneratedCall(src: 812_000_000 + k, dst: "1441", dcontext: "aoc-hotline", start: start + 20 * k,
                                     answer: start + 20 * k + 10, end: start + 20 * k + 100, disposition: "ANSWERED", agent: 1, sequence: k)
            var bytes: [UInt8] = []
            call.append(to: &bytes, offset: 7 * 3600)
            return Data(bytes)
        }
        let files = 1500
        let hourAgo = Date().addingTimeInterval(-3600)
        for k in 1...files {
            let path = dir.path + "/logs/Master-\(k).csv"
            if k == 1 { try FileManager.default.createDirectory(atPath: dir.path + "/logs", withIntermediateDirectories: true) }
            _ = FileManager.default.createFile(atPath: path, contents: k % 3 == 0 ? Data(gzipMember(Array(line(k)))) : line(k))
            // Written in turn, as a log's files are: adopted oldest first, in stream order.
            try FileManager.default.setAttributes([.modificationDate: hourAgo.addingTimeInterval(Double(k))], ofItemAtPath: path)
        }
        var truth: [String: Int] = [:]
        for k in 1...files { truth[Text.localDate(start + 20 * k, offset: 7 * 3600), default: 0] += 1 }
        let f = try Follower(dir: dir.path, sources: """
              - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/logs/Master-*.csv"] }
            """)
        try f.start(openFiles: 256)
        #expect(f.waitFor(truth, seconds: 60) == truth)
        let pid = try #require(f.process?.processIdentifier)
        var open = Int.max
        for _ in 0..<50 {
            open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? Int.max
            if open < 100 { break }
            usleep(100_000)
        }
        #expect(open < 100, "\(open) descriptors open for \(files) idle files")
        // Written again: read on from where it was.
        for (k, bytes) in [(7, line(files + 1)), (9, Data(gzipMember(Array(line(files + 2)))))] {
            let handle = try #require(FileHandle(forWritingAtPath: dir.path + "/logs/Master-\(k).csv"))
            handle.seekToEndOfFile()
            handle.write(bytes)
            try handle.close()
        }
        truth[Text.localDate(start + 20 * (files + 1), offset: 7 * 3600), default: 0] += 2
        #expect(f.waitFor(truth, seconds: 15) == truth)
        #expect(f.stop() == 0)
        try f.start(openFiles: 256)
        usleep(1_000_000)
        #expect(f.waitFor(truth, seconds: 30) == truth)
        #expect(f.stop() == 0)
        #expect(f.callsPerDay == truth)
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
