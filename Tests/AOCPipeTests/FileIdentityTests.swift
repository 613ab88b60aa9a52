import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// One file identity in both modes: a file is its decoded content. Batch reads each content
/// once (links, the same path twice, copies, a plain file and its `.gz`, a file that is the
/// start of another), says what it skipped, and reads a checkpointed file that grew from where
/// it stopped.
@Suite(.serialized) struct FileIdentityTests {
    /// `n` hotline lines, one call each, 10 minutes apart from 1 Nov 2023 08:00 Bangkok.
    static func lines(_ range: Range<Int>) -> String {
        range.map { EventTimeTests.cdr(EventTimeTests.nov1 + $0 * 600, sequence: $0 + 1) }.joined()
    }

    static func config(_ paths: [String], in dir: TempDir) throws -> PipelineConfig {
        try pipeline("""
            name: identity
            sources: [{ name: telephony, format: asterisk-cdr, paths: [\(paths.map { "\"\(dir.path)/\($0)\"" }.joined(separator: ", "))] }]
            """)
    }

    static func batch(_ config: PipelineConfig, jobs: Int = 1, checkpoint: String? = nil) throws -> BatchRunner.Outcome {
        try BatchRunner(config: config, jobs: jobs, progress: .never).run(checkpointPath: checkpoint)
    }

    /// A fingerprint read back from a checkpoint has no bytes, only hashes with lengths; it
    /// still tells the same content, a copy still being written (cut anywhere after its first
    /// line, plain or gzip) and other content apart.
    @Test func aStoredFingerprintKnowsItsContentByHashesAlone() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let lines = (0..<12).map { "\"\",\"08\($0)1234567\",\"1441\",\"2023-11-01 00:0\($0 % 10):00\",line \($0)\n" }.joined()
        let text = Array(lines.utf8)
        let taken = try #require(try Fingerprint.of(InputFile(path: dir.file("a.csv", text))))
        var w = ByteWriter()
        taken.encode(&w)
        var r = ByteReader(w.bytes)
        let stored = try Fingerprint.decode(&r)
        #expect(stored.bytes == nil && stored == taken && stored.lineEnds == taken.lineEnds)
        #expect(personalData(in: w.bytes) == [])
        func relation(_ bytes: [UInt8], gzip: Bool = false) throws -> Fingerprint.Match {
            let file = try InputFile(path: dir.file("other" + (gzip ? ".gz" : ""), gzip ? gzipMember(bytes) : bytes))
            let match = try stored.match(file)
            // The follower's probe (the first bytes read once) says the same as reading again.
            let probe = FingerprintProbe(bytes: try #require(try Fingerprint.of(file, requireLine: true)).bytes ?? [])
            #expect(probe.relation(to: stored) == match && probe.relation(to: taken) == match)
            return match
        }
        #expect(try relation(text + Array("more\n".utf8)) == .same)
        for cut in [text.firstIndex(of: 0x0A)! + 1, 100, 250, text.count - 1] {
            #expect(try relation(Array(text.prefix(cut))) == .growingCopy, "cut at \(cut)")
            #expect(try relation(Array(text.prefix(cut)), gzip: true) == .growingCopy, "gzip cut at \(cut)")
        }
        var edited = text
        edited[5] = UInt8(ascii: "9")
        #expect(try relation(edited) == .different)
        #expect(try relation(Array(edited.prefix(120))) == .different)
        // The start of a stored short file is recognised in a longer one by hash.
        #expect(stored.isStart(of: try #require(try Fingerprint.of(InputFile(path: dir.file("b.csv", text + text))))))
    }

    @Test func batchReadsEachContentOnceAndSaysWhatItSkipped() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let text = Self.lines(0..<300)
        _ = dir.file("logs/Master.csv-20231102.gz", gzipMember(Array(text.utf8)))
        _ = dir.file("logs/Master.csv-20231102", text)                       // gzip -k / logrotate's compress step
        _ = dir.file("logs/copy.csv", text)                                   // cp
        _ = dir.file("logs/older.csv", String(text.prefix(text.count / 2)))  // a copy taken while it grew
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/logs/link.gz", withDestinationPath: "Master.csv-20231102.gz")
        let config = try Self.config(["logs/*", "logs/./Master.csv-20231102.gz"], in: dir)  // and one file twice
        for jobs in [1, 2] {
            let outcome = try Self.batch(config, jobs: jobs)
            let r = outcome.report
            #expect(r.totals.counters.calls == 300, "jobs \(jobs)")
            #expect(r.input.files == 1 && r.input.callLines == 300)
            let read = "\(dir.path)/logs/Master.csv-20231102"  // the first of the equal contents in glob order
            let skipped = r.input.duplicates.map { "\($0.path.dropFirst(dir.path.count + 1)) \($0.why.rawValue)" }
            #expect(skipped == ["logs/./Master.csv-20231102.gz same_content", "logs/Master.csv-20231102.gz same_content",
                                "logs/copy.csv same_content", "logs/link.gz same_content", "logs/older.csv prefix"], "\(skipped)")
            #expect(r.input.duplicates.allSatisfy { $0.sameAs == read }, "\(r.input.duplicates)")
            // In the JSON, and in the table's input line.
            let json = try #require(try JSONSerialization.jsonObject(with: Data(Renderer.json(r).utf8)) as? [String: Any])
            #expect(((json["input"] as? [String: Any])?["duplicates"] as? [[String: Any]])?.count == 5)
            #expect(Renderer.render(r, as: .table).contains("input: 1 files (5 more skipped as duplicates)"))
        }
        // follow counts the same directory once too.
        let f = try Follower(dir: dir.path, sources: """
              - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/logs/*"] }
            """)
        try f.start()
        let truth = ["2023-11-01": 96, "2023-11-02": 144, "2023-11-03": 60]
        #expect(f.waitFor(truth) == truth)
        #expect(f.stop() == 0)
    }

    @Test func filesThatStartAlikeButDifferAreBothReadAndSaid() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let text = Self.lines(0..<100)
        _ = dir.file("a.csv", text)
        _ = dir.file("b.csv", text + Self.lines(200..<210))
        _ = dir.file("c.csv", String(text.prefix(2000)) + Self.lines(300..<310))
        let outcome = try Self.batch(Self.config(["*.csv"], in: dir))
        #expect(outcome.report.input.duplicates.map(\.why) == [.prefix])  // a.csv is the start of b.csv
        #expect(outcome.report.input.files == 2)
        #expect(outcome.warnings.contains { $0.hasPrefix(dir.path + "/c.csv: starts as " + dir.path + "/b.csv does but differs from decoded byte") })
    }

    @Test func aCheckpointedFileThatGrewIsReadFromWhereItStopped() throws {
        for gzip in [false, true] {
            let dir = TempDir()
            defer { dir.remove() }
            let name = gzip ? "Master.csv.gz" : "Master.csv"
            let parts = [Self.lines(0..<120), Self.lines(120..<250), Self.lines(250..<260)]
            func write(_ k: Int) {
                // gzip grows by members (rsyslog, `cat more.gz >> log.gz`); plain by appending.
                let bytes = gzip ? parts[0...k].flatMap { gzipMember(Array($0.utf8)) } : Array(parts[0...k].joined().utf8)
                _ = dir.file(name, bytes)
            }
            let config = try Self.config([name], in: dir)
            let state = dir.path + "/state"
            write(0)
            #expect(try Self.batch(config, checkpoint: state).report.totals.counters.calls == 120)
            write(1)
            let second = try Self.batch(config, checkpoint: state)
            #expect(second.resumedFiles == 0, "gzip \(gzip)")
            #expect(second.report.totals.counters.calls == 250, "gzip \(gzip)")
            #expect(second.report.input.lines == 250 && second.report.input.files == 1)
            // Nothing new: skipped, the same numbers.
            let third = try Self.batch(config, checkpoint: state)
            #expect(third.resumedFiles == 1 && third.report.totals.counters.calls == 250, "gzip \(gzip)")
            write(2)
            let fourth = try Self.batch(config, checkpoint: state).report
            let fresh = try Self.batch(config).report
            #expect(fourth.totals == fresh.totals && fourth.days == fresh.days, "gzip \(gzip)")
            #expect(fourth.input.lines == fresh.input.lines && fourth.input.records == fresh.input.records)
            #expect(fresh.totals.counters.calls == 260)
            #expect(try Checkpoint.load(from: state, for: config)?.files.count == 1)
        }
    }

    /// A file shorter than a fingerprint (1 KiB) when first read is known by its start.
    @Test func aFileThatWasShortWhenReadIsReadOnWhenItGrows() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let config = try Self.config(["Master.csv"], in: dir)
        let state = dir.path + "/state"
        _ = dir.file("Master.csv", Self.lines(0..<2))
        #expect(try Self.batch(config, checkpoint: state).report.totals.counters.calls == 2)
        _ = dir.file("Master.csv", Self.lines(0..<50))
        let r = try Self.batch(config, checkpoint: state).report
        #expect(r.totals.counters.calls == 50 && r.input.lines == 50)
    }

    @Test func aRotatedAndCompressedFileIsNotCountedAgain() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let text = Self.lines(0..<200)
        _ = dir.file("Master.csv", text)
        let config = try Self.config(["Master.csv*"], in: dir)
        let state = dir.path + "/state"
        #expect(try Self.batch(config, checkpoint: state).report.totals.counters.calls == 200)
        // logrotate: renamed and compressed, a new file begun.
        try FileManager.default.removeItem(atPath: dir.path + "/Master.csv")
        _ = dir.file("Master.csv.1.gz", gzipMember(Array(text.utf8)))
        _ = dir.file("Master.csv", Self.lines(200..<230))
        let r = try Self.batch(config, checkpoint: state).report
        #expect(r.totals.counters.calls == 230)
        #expect(r.input.lines == 230)
    }
}
