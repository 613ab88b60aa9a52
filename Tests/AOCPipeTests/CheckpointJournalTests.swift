import Foundation
import Logging
import Testing
@testable import AOCPipe

/// Follow's checkpoint is a base and a journal of changes: loaded back at any point, it is
/// the state the follower holds, byte for byte, through compactions, expiry and stale journals.
@Suite struct CheckpointJournalTests {
    /// Every decoded byte of the sample logs of one source, oldest file first.
    static func decoded(_ folder: String, _ name: String) throws -> [UInt8] {
        let dir = packageRoot + "/SampleLogs/" + folder
        let rotated = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(name + "-") }.sorted()
        var out: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        for file in rotated + [name] {
            let decoder = try Decoding.decoder(for: InputFile(path: dir + "/" + file))
            while true {
                let (n, _) = try decoder.read(into: buffer)
                if n == 0 { break }
                out += buffer[0..<n]
            }
        }
        return out
    }

    @Test func theBaseWithItsJournalIsTheFollowersStateAfterEveryWrite() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var config = try PipelineConfig.parse(yaml: """
            name: journal-test
            timezone: Asia/Bangkok
            sources:
              - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/Master.csv"] }
              - { name: freeze, format: freeze-jsonl, paths: ["\(dir.path)/freeze.jsonl"] }
            aggregate: { retention: 3d }
            """, file: "journal.yaml")
        config.checkpointEveryMillis = 1
        let calls = try Self.decoded("telephony", "Master.csv"), freezes = try Self.decoded("freeze", "freeze.jsonl")
        let path = dir.path + "/state", journal = path + ".journal"
        _ = dir.file("Master.csv", [UInt8]()); _ = dir.file("freeze.jsonl", [UInt8]())
        let state = FollowState(config: config, checkpoint: Checkpoint(config: config, tracksMinutes: true),
                                quarantinePath: nil, logger: Logger(label: "test"))
        let checkpointer = Checkpointer(path: path, everyMillis: 1)
        checkpointer.journaled = true
        checkpointer.journalAllowance = 64 << 10
        let steps = 60
        var bases = Set<UInt64>(), records = 0, expired = 0
        func append(_ bytes: [UInt8], _ k: Int, to name: String) throws {
            // Cut at a line end, as a writer flushes (a partial line waits anyway).
            func cut(_ i: Int) -> Int { i >= bytes.count ? bytes.count : (bytes[i...].firstIndex(of: 10) ?? bytes.count - 1) + 1 }
            let from = cut(bytes.count * k / steps), to = cut(bytes.count * (k + 1) / steps)
            guard to > from, let h = FileHandle(forWritingAtPath: dir.path + "/" + name) else { return }
            h.seekToEndOfFile(); h.write(Data(bytes[from..<to])); try h.close()
        }
        for k in 0..<steps {
            try append(calls, k, to: "Master.csv")
            try append(freezes, k, to: "freeze.jsonl")
            _ = state.readAll()
            if state.checkpoint.aggregate.joinChanges?.contains(where: { if case .expired = $0 { true } else { false } }) == true { expired += 1 }
            let before = InputFile.identity(of: path)?.inode
            #expect(state.save(with: checkpointer, force: true))
            if let inode = InputFile.identity(of: path)?.inode { bases.insert(inode); if inode == before { records += 1 } }
            let loaded = try #require(try Checkpoint.load(from: path, for: config))
            #expect(loaded.encoded() == state.checkpoint.encoded(), "step \(k): base and journal give the live state")
        }
        #expect(expired > 0, "hours and join records expired on the way")
        #expect(bases.count >= 3 && records >= steps / 2, "\(bases.count) bases, \(records) records")
        #expect(checkpointer.bytesWritten < steps * (try Data(contentsOf: URL(fileURLWithPath: path)).count) / 2,
                "a record costs what changed, not the state")

        // A crash between a new base and its new journal leaves the old journal: it names the
        // old base, so it is not applied again.
        let old = try Data(contentsOf: URL(fileURLWithPath: journal))
        checkpointer.journalAllowance = 0
        try append(calls, steps, to: "Master.csv")
        _ = state.readAll()
        #expect(state.save(with: checkpointer, force: true))
        try old.write(to: URL(fileURLWithPath: journal))
        #expect(try Checkpoint.load(from: path, for: config)?.encoded() == state.checkpoint.encoded())
        // A record cut short (a crash while appending it) is not applied; the ones before are.
        checkpointer.journalAllowance = 1 << 30
        _ = dir.file("Master.csv", [UInt8]())  // truncated: a change to record
        _ = state.readAll()
        let beforeAppend = try #require(try Checkpoint.load(from: path, for: config)).encoded()
        #expect(state.save(with: checkpointer, force: true))
        let whole = try Data(contentsOf: URL(fileURLWithPath: journal))
        try whole.prefix(whole.count - 3).write(to: URL(fileURLWithPath: journal))
        #expect(try Checkpoint.load(from: path, for: config)?.encoded() == beforeAppend)
        #expect((try FileManager.default.attributesOfItem(atPath: journal)[.posixPermissions] as? Int) == 0o600)
        // A journal removed by hand: the next checkpoint is a base, not a record appended to
        // a file nobody would read back.
        try FileManager.default.removeItem(atPath: journal)
        let line = calls[...calls.firstIndex(of: 10)!]
        let h = try #require(FileHandle(forWritingAtPath: dir.path + "/Master.csv"))
        h.seekToEndOfFile(); h.write(Data(line)); try h.close()
        _ = state.readAll()
        #expect(state.save(with: checkpointer, force: true))
        #expect(FileManager.default.fileExists(atPath: journal))
        #expect(try Checkpoint.load(from: path, for: config)?.encoded() == state.checkpoint.encoded())
    }
}
