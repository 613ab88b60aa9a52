import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// A corpus of damaged gzip files made from one good three-member file: cut at every prefix,
/// a bad CRC or ISIZE in each member, reserved header flags, garbage after and between
/// members, zero padding. Each is read through the whole path (decoder, framer, parser) by
/// every inflate engine the build has, at several read sizes, and must give what zlib gives
/// (lines, records, malformed reasons, damage) and what the members hold: the intact members'
/// lines all count, the damaged member's lines at most, and damage is reported exactly when
/// there is some, at its member's offset.
@Suite struct GzipCorpusTests {
    static let linesPerMember = 12

    /// Three members of 12 hotline CDR lines each (one call a line).
    static let members: [[UInt8]] = (0..<3).map { m in
        let text = (0..<linesPerMember).map { k in
            EventTimeTests.cdr(EventTimeTests.nov1 + (m * linesPerMember + k) * 600, sequence: m * linesPerMember + k + 1)
        }.joined()
        return gzipMember(Array(text.utf8))
    }
    static let starts: [Int] = [0, members[0].count, members[0].count + members[1].count]
    static let whole = members.joined().map { $0 }

    /// What reading a file gave.
    struct Reading: Equatable, CustomStringConvertible {
        var lines = 0, records = 0
        var malformed: [MalformedReason: Int] = [:]
        var damage: [DecodeDamage] = []
        var description: String { "lines \(lines) records \(records) malformed \(malformed) damage \(damage)" }
    }

    static func read(_ path: String, engine: InflateEngines.Kind, readSize: Int, bufferSize: Int = 4096) throws -> Reading {
        let config = try pipeline("sources: [{ name: t, format: asterisk-cdr, paths: [x] }]")
        let worker = SourceWorker(parser: AsteriskCDRParser(rules: config.sources[0].calls, sourceZone: bangkok),
                                  aggregate: PartialAggregate(reportZone: bangkok), source: "t", file: path)
        let reader = try FileReader(file: InputFile(path: path), sink: worker, maxLineBytes: 65536, readSize: readSize, engine: engine)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        while try reader.read(into: buffer, budget: 1) > 0 {}
        reader.finish()
        let stats = reader.drain().stats
        return Reading(lines: stats.lines, records: stats.records, malformed: stats.malformedByReason, damage: stats.damage)
    }

    /// Reads `bytes` as a file with every engine and read size; all must agree with zlib's
    /// reading at the largest read size, which is returned.
    static func readAllWays(_ bytes: [UInt8], in dir: TempDir, _ what: String) throws -> Reading {
        let path = dir.file("Master.csv.gz", bytes)
        let reference = try read(path, engine: .zlib, readSize: 1 << 16)
        for engine in InflateEngines.available {
            for readSize in [1 << 16, 509, 7] {
                let other = try read(path, engine: engine, readSize: readSize)
                #expect(other == reference, "\(what): \(engine) read \(readSize): \(other) vs zlib \(reference)")
            }
        }
        return reference
    }

    @Test func cutAtEveryPrefix() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let ends = Set(Self.starts.dropFirst() + [Self.whole.count])
        // (One byte, `1f`, is no gzip magic: a plain file of one bad line.)
        for cut in 2...Self.whole.count {
            let r = try Self.readAllWays(Array(Self.whole.prefix(cut)), in: dir, "cut at \(cut)")
            let member = Self.starts.lastIndex { $0 < cut }!
            let intact = ends.contains(cut) ? member + 1 : member
            #expect(r.records >= intact * Self.linesPerMember && r.records <= (member + 1) * Self.linesPerMember, "cut at \(cut): \(r)")
            if ends.contains(cut) {
                #expect(r.damage.isEmpty && r.malformed.isEmpty && r.records == intact * Self.linesPerMember, "cut at \(cut): \(r)")
            } else {
                #expect(r.damage.count == 1 && r.damage.first?.offset == Self.starts[member] && r.damage.first?.resumedAt == nil,
                        "cut at \(cut): \(r)")
                // The line the cut went through is `truncated`, never a record.
                #expect(r.malformed.keys.allSatisfy { $0 == .truncated }, "cut at \(cut): \(r)")
            }
        }
    }

    @Test func badTrailersHeadersAndGarbage() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let n = Self.linesPerMember
        for m in 0..<3 {
            let resumed = m < 2 ? Self.starts[m + 1] : nil
            func with(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
                var members = Self.members
                change(&members[m])
                return members.joined().map { $0 }
            }
            // A bad CRC or ISIZE: the member's bytes came out before its trailer was checked, so its lines count.
            for (name, fromEnd) in [("crc", 8), ("isize", 4)] {
                let r = try Self.readAllWays(with { $0[$0.count - fromEnd] ^= 0x01 }, in: dir, "bad \(name) in member \(m)")
                #expect(r.records == 3 * n && r.malformed.isEmpty, "bad \(name) in member \(m): \(r)")
                #expect(r.damage.map(\.kind) == [.corruptMember] && r.damage.first?.offset == Self.starts[m] && r.damage.first?.resumedAt == resumed)
            }
            // Reserved header flags (Go's issue6550.gz has this shape): the member is damage, the others count.
            let r = try Self.readAllWays(with { $0[3] |= 0x20 << UInt8(m) }, in: dir, "reserved flags in member \(m)")
            #expect(r.records == 2 * n && r.malformed.isEmpty, "reserved flags in member \(m): \(r)")
            #expect(r.damage.map(\.kind) == [.corruptMember] && r.damage.first?.offset == Self.starts[m] && r.damage.first?.resumedAt == resumed)
        }
        let junk = Array("not gzip\n".utf8)
        let after = try Self.readAllWays(Self.whole + junk, in: dir, "garbage after")
        #expect(after.records == 3 * n && after.damage.map(\.kind) == [.garbage] && after.damage.first?.offset == Self.whole.count)
        let between = try Self.readAllWays(Self.members[0] + junk + Self.members[1] + Self.members[2], in: dir, "garbage between")
        #expect(between.records == 3 * n && between.damage.first?.resumedAt == Self.starts[1] + junk.count)
        let padded = try Self.readAllWays(Self.whole + [UInt8](repeating: 0, count: 4099), in: dir, "zero padding")
        #expect(padded == Reading(lines: 3 * n, records: 3 * n))
        // A header alone, cut after its method byte, at the end.
        let header = try Self.readAllWays(Self.whole + [0x1f, 0x8b, 0x08], in: dir, "a cut header")
        #expect(header.records == 3 * n && header.damage.map(\.kind) == [.truncatedMember] && header.damage.first?.offset == Self.whole.count)
    }

    /// Batch on one thread and on two (the parallel path decodes on its own) counts what
    /// the reader counted, for a sample of the corpus.
    @Test func batchCountsWhatTheReaderCounts() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var reserved = Self.members
        reserved[0][3] |= 0x80
        var files: [[UInt8]] = [reserved.joined().map { $0 }, Self.whole + Array("junk".utf8)]
        for cut in stride(from: 5, to: Self.whole.count, by: 97) { files.append(Array(Self.whole.prefix(cut))) }
        for bytes in files {
            let path = dir.file("Master.csv.gz", bytes)
            let expected = try Self.read(path, engine: .zlib, readSize: 1 << 16)
            let config = try pipeline("sources: [{ name: t, format: asterisk-cdr, paths: [\"\(path)\"] }]")
            for jobs in [1, 2] {
                let r = try BatchRunner(config: config, jobs: jobs, progress: .never).run().report
                let got = Reading(lines: r.input.lines, records: r.input.records, malformed: r.input.malformedByReason, damage: r.input.damage)
                #expect(got == expected, "jobs \(jobs), \(bytes.count) bytes")
                #expect(r.input.files == 1)
            }
        }
    }

    /// A follower adopts a file whose first member is damage (the fingerprint reads past it)
    /// and counts the members after it, reporting the damage.
    @Test func followReadsPastADamagedFirstMember() throws {
        let dir = TempDir()
        defer { dir.remove() }
        var members = Self.members
        members[0][3] |= 0x40
        _ = dir.file("Master.csv.1.gz", members.joined().map { $0 })
        let f = try Follower(dir: dir.path, sources: """
              - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/Master.csv*"] }
            """)
        try f.start()
        let truth = ["2023-11-01": 2 * Self.linesPerMember]
        #expect(f.waitFor(truth) == truth)
        #expect(f.stop() == 0)
        let damage = (f.document?["input"] as? [String: Any])?["gzip_damage"] as? [[String: Any]]
        #expect(damage?.count == 1 && damage?.first?["offset"] as? Int == 0 && damage?.first?["resumed_at"] as? Int == Self.starts[1])
    }
}
