import Foundation
import Testing
@testable import AOCPipe

@Suite struct CheckpointTests {
    static func sampleConfig(paths: [String]? = nil) throws -> PipelineConfig {
        var config = try PipelineConfig.load(path: packageRoot + "/Pipelines/aoc1441.yaml")
        for i in config.sources.indices { config.sources[i].paths = config.sources[i].paths.map { packageRoot + "/" + $0 } }
        if let paths { config.sources[0].paths = [packageRoot + "/" + paths[0]]; config.sources[1].paths = [packageRoot + "/" + paths[1]] }
        config.checkpointEveryMillis = 1
        return config
    }

    static func days(_ r: Report) -> [Counters] { r.days.map(\.counters) }

    @Test func roundTripKeepsEveryCount() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let config = try Self.sampleConfig()
        let path = dir.path + "/state"
        let first = try BatchRunner(config: config, jobs: 2, progress: .never).run(checkpointPath: path)
        let loaded = try #require(try Checkpoint.load(from: path, for: config))
        #expect(loaded.files.count == 28)
        #expect(loaded.files.allSatisfy { $0.complete })
        // Same state, same bytes: encoding is deterministic.
        let onDisk = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(loaded.encoded() == onDisk)
        let again = Report(pipeline: config.name, zone: config.zone, aggregate: loaded.aggregate,
                           input: loaded.sources.reduce(into: InputStats()) { $0 += $1 }, sources: [],
                           slaMillis: config.slaMillis, latenessMillis: config.latenessMillis)
        #expect(Self.days(again) == Self.days(first.report))
        #expect(again.totals.freeze == first.report.totals.freeze)
        #expect(again.input.lines == first.report.input.lines)
    }

    @Test func aRunStoppedPartWayResumesToTheSameNumbers() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.path + "/state"
        // "Killed" after the first week: a checkpoint that holds only some of the files.
        let partial = try Self.sampleConfig(paths: ["SampleLogs/telephony/Master.csv-2023110[1-7].gz",
                                                     "SampleLogs/freeze/freeze.jsonl-2023110[1-7].gz"])
        _ = try BatchRunner(config: partial, jobs: 2, progress: .never).run(checkpointPath: path)
        let full = try Self.sampleConfig()
        let resumed = try BatchRunner(config: full, jobs: 2, progress: .never).run(checkpointPath: path)
        #expect(resumed.resumedFiles == 14)
        let fresh = try BatchRunner(config: full, jobs: 2, progress: .never).run()
        #expect(Self.days(resumed.report) == Self.days(fresh.report))
        #expect(resumed.report.totals.freeze == fresh.report.totals.freeze)
        #expect(resumed.report.input.files == 28)
        #expect(resumed.report.input.lines == fresh.report.input.lines)
        // And a third run counts nothing twice.
        let third = try BatchRunner(config: full, jobs: 2, progress: .never).run(checkpointPath: path)
        #expect(third.resumedFiles == 28)
        #expect(Self.days(third.report) == Self.days(fresh.report))
    }

    /// State files hold what they must only for their owner: checkpoint and quarantine 0600,
    /// whatever the umask lets through, in batch and in follow's appends.
    @Test func checkpointAndQuarantineAreTheOwnersOnly() throws {
        let dir = TempDir()
        defer { dir.remove() }
        func mode(_ path: String) throws -> Int {
            try #require((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue)
        }
        let state = dir.path + "/state"
        _ = try BatchRunner(config: Self.sampleConfig(), jobs: 1, progress: .never).run(checkpointPath: state)
        #expect(try mode(state) == 0o600)
        let sample = QuarantineSample(source: "s", file: "f", offset: 0, reason: .badJSON, bytes: Array("x".utf8))
        let batchQuarantine = dir.path + "/q/batch.jsonl"
        try Quarantine.write([sample], to: batchQuarantine)
        #expect(try mode(batchQuarantine) == 0o600)
        // Appended (follow): created 0600, and an older file's wider permissions taken away.
        let followQuarantine = dir.file("follow.jsonl", "")
        chmod(followQuarantine, 0o644)
        try Quarantine.append([sample], to: followQuarantine)
        #expect(try mode(followQuarantine) == 0o600)
    }

    /// No log content in state: a checkpoint identifies files by hashes with lengths, and holds
    /// calls by key hash, so neither a caller number nor an account is in it. Format 2
    /// held each file's first 1 KiB: that one is still read (and its counts kept), and written
    /// back without them.
    @Test func checkpointsHoldNoPersonalData() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let config = try Self.sampleConfig()
        let path = dir.path + "/state"
        let first = try BatchRunner(config: config, jobs: 2, progress: .never).run(checkpointPath: path)
        let state = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(personalData(in: state) == [])
        // The scan finds what the old format held: the first lines of every file.
        var loaded = try #require(try Checkpoint.load(from: path, for: config))
        for i in loaded.files.indices {
            loaded.files[i].fingerprint = try #require(try Fingerprint.of(InputFile(path: loaded.files[i].path)))
        }
        let old = loaded.encodedAsVersion2()
        #expect(personalData(in: old).count == 5)
        // A format-2 checkpoint is read on: nothing is counted again, and it is rewritten clean.
        let oldPath = dir.file("old-state", old)
        let resumed = try BatchRunner(config: config, jobs: 2, progress: .never).run(checkpointPath: oldPath)
        #expect(resumed.resumedFiles == 28)
        #expect(Self.days(resumed.report) == Self.days(first.report))
        #expect(personalData(in: try Array(Data(contentsOf: URL(fileURLWithPath: oldPath)))) == [])
    }

    /// A growing gzip file's access point survives the checkpoint; one that cannot be (bits
    /// past a byte, a window over 32 KiB, a member starting after the point) is refused.
    @Test func accessPointsRoundTripAndImpossibleOnesAreRefused() throws {
        let config = try Self.sampleConfig()
        func encoded(_ change: (inout AccessPoint) -> Void) -> [UInt8] {
            var c = Checkpoint(config: config, tracksMinutes: true)
            var f = Checkpoint.FilePosition(source: 0, path: "/var/log/asterisk/cdr-csv/Master.csv.gz",
                                            fingerprint: Fingerprint(bytes: Array("x".utf8)), decodedOffset: 90_000, complete: false)
            var a = AccessPoint(memberStart: 0, memberDecodedStart: 0, bits: 5, crc: 0xDEAD_BEEF,
                                window: Array(repeating: 7, count: AccessPoint.windowSize))
            change(&a)
            f.resume = ResumePoint(fileOffset: 12_345, decodedOffset: 80_000, access: a)
            f.resumeIsGzip = true
            c.files = [f]
            return c.encoded()
        }
        let good = try Checkpoint.decode(encoded { _ in }, path: "state", config: config)
        #expect(good.files.first?.resume.access?.bits == 5 && good.files.first?.resume.access?.crc == 0xDEAD_BEEF)
        #expect(good.encoded() == encoded { _ in })
        for bad: (inout AccessPoint) -> Void in [{ $0.bits = 8 }, { $0.window += [1] }, { $0.memberStart = 12_345 }, { $0.memberDecodedStart = 80_001 }] {
            #expect(throws: CheckpointError.self) { try Checkpoint.decode(encoded(bad), path: "state", config: config) }
        }
    }

    @Test func damagedCheckpointsAreRefusedWhole() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let config = try Self.sampleConfig()
        let path = dir.path + "/state"
        _ = try BatchRunner(config: config, jobs: 2, progress: .never).run(checkpointPath: path)
        let good = try Array(Data(contentsOf: URL(fileURLWithPath: path)))

        func refusal(_ bytes: [UInt8], _ cfg: PipelineConfig? = nil) -> String? {
            let p = dir.file("variant", bytes)
            do {
                _ = try Checkpoint.load(from: p, for: cfg ?? config)
                return nil
            } catch {
                return error.description
            }
        }
        var flipped = good
        flipped[good.count / 2] ^= 0x40
        #expect(refusal(flipped)?.contains("checksum mismatch") == true)
        #expect(refusal(Array(good.prefix(good.count - 10)))?.contains("damaged") == true)
        #expect(refusal(Array(good.prefix(10)))?.contains("damaged") == true)
        #expect(refusal(Array("hello".utf8))?.contains("not an aocpipe checkpoint") == true)
        var future = good
        future[8] = 99
        #expect(refusal(future)?.contains("newer aocpipe") == true)
        var other = config
        other.sources[0].calls.hotline = ["1202"]
        #expect(refusal(good, other)?.contains("other settings of pipeline aoc1441") == true)
        // Another pipeline with the same sources (as a generated one has): refused, naming both.
        var renamed = config
        renamed.name = "synthetic"
        #expect(refusal(good, renamed)?.contains(#"belongs to pipeline "aoc1441", not "synthetic""#) == true)
        #expect(refusal(good) == nil)
        // Through the runner too: nothing runs from a bad checkpoint.
        let bad = dir.file("bad-state", flipped)
        #expect(throws: CheckpointError.self) { try BatchRunner(config: config, progress: .never).run(checkpointPath: bad) }
    }
}
