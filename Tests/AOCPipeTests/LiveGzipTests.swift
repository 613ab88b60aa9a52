import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// gzip files still being written, as rsyslog's `zipLevel` writes them.
@Suite struct LiveGzipTests {
    static func line(_ i: Int) -> String { "event \(i) of a live log with some padding text\n" }

    /// Reads everything decodable now.
    static func drain(_ d: any ByteDecoder, into out: inout [UInt8], gaps: inout Int, size: Int = 97) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let (n, gap) = try d.read(into: buffer)
            out += buffer[0..<n]
            if gap { gaps += 1 }
            if n == 0 && !gap { return }
        }
    }

    @Test func aMemberWithoutTrailerIsReadAsItGrows() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.path + "/live.gz"
        let writer = try LogWriter(path: path, gzipLevel: 6)
        let decoder = try GzipDecoder(file: InputFile(path: path), readSize: 61, live: true)
        var expected = "", out: [UInt8] = [], gaps = 0
        for step in 0..<20 {
            for i in 0..<(step * 3 + 1) {
                let l = Self.line(step * 100 + i)
                expected += l
                try writer.write(Array(l.utf8))
            }
            try writer.syncFlush()
            try Self.drain(decoder, into: &out, gaps: &gaps)
            #expect(String(decoding: out, as: UTF8.self) == expected, "after step \(step)")
        }
        try writer.finish()
        try Self.drain(decoder, into: &out, gaps: &gaps)
        #expect(String(decoding: out, as: UTF8.self) == expected)
        #expect(decoder.damage.isEmpty && gaps == 0)
        #expect(decoder.decodedOffset == expected.utf8.count)
    }

    @Test func anUncleanCloseThenANewMemberResyncs() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.path + "/crashed.gz"
        // The writer flushed 30 lines and died: no trailer. Restarted, it appends a member.
        let first = (0..<30).map(Self.line).joined()
        let unfinished: [UInt8] = try {
            let p = dir.path + "/part.gz"
            let w = try LogWriter(path: p, gzipLevel: 6)
            try w.write(Array(first.utf8))
            try w.syncFlush()
            return Array(FileManager.default.contents(atPath: p)!)
        }()
        _ = dir.file("crashed.gz", unfinished)
        let decoder = try GzipDecoder(file: InputFile(path: path), readSize: 50, live: true)
        var out: [UInt8] = [], gaps = 0
        try Self.drain(decoder, into: &out, gaps: &gaps)
        #expect(String(decoding: out, as: UTF8.self) == first)
        #expect(decoder.damage.isEmpty, "a member without trailer on a live file is not damage")

        let second = (30..<50).map(Self.line).joined()
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(gzipMember(second)))
        try handle.close()
        try Self.drain(decoder, into: &out, gaps: &gaps)
        #expect(String(decoding: out, as: UTF8.self) == first + second)
        #expect(decoder.damage == [DecodeDamage(path: path, kind: .corruptMember, offset: 0, resumedAt: unfinished.count)])
        #expect(gaps == 1)
    }

    @Test func oneMemberPerWriteAsVeryRobustZip() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.file("robust.gz", [UInt8]())
        let decoder = try GzipDecoder(file: InputFile(path: path), readSize: 33, live: true)
        var expected = "", out: [UInt8] = [], gaps = 0
        let handle = try #require(FileHandle(forWritingAtPath: path))
        for i in 0..<40 {
            let l = Self.line(i)
            expected += l
            let member = gzipMember(l)
            // Half a member, a read, then the rest: a read may land mid-write.
            handle.write(Data(member.prefix(member.count / 2)))
            try Self.drain(decoder, into: &out, gaps: &gaps)
            handle.write(Data(member.dropFirst(member.count / 2)))
            try Self.drain(decoder, into: &out, gaps: &gaps)
            #expect(String(decoding: out, as: UTF8.self) == expected)
        }
        try handle.close()
        #expect(decoder.damage.isEmpty && gaps == 0)
    }

    @Test func resumingFromAResumePointSkipsWhatWasRead() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let all = (0..<300).map(Self.line)
        var bytes: [UInt8] = []
        for chunk in stride(from: 0, to: 300, by: 50) { bytes += gzipMember(all[chunk..<(chunk + 50)].joined()) }
        let path = dir.file("members.gz", bytes)
        let text = Array(all.joined().utf8)
        for committed in [0, 1, 2_000, text.count / 2, text.count - 1, text.count] {
            let first = try GzipDecoder(file: InputFile(path: path), readSize: 100, live: true)
            var out: [UInt8] = [], gaps = 0
            try Self.drain(first, into: &out, gaps: &gaps)
            let point = first.resumePoint(for: committed)
            #expect(point.decodedOffset <= committed)
            let again = try Decoding.decoder(for: InputFile(path: path), live: true, from: point)
            var rest: [UInt8] = []
            try Self.drain(again, into: &rest, gaps: &gaps)
            #expect(String(decoding: text[point.decodedOffset...], as: UTF8.self) == String(decoding: rest, as: UTF8.self),
                    "committed \(committed) from \(point), got \(rest.count) bytes")
            #expect(again.decodedOffset == text.count, "committed \(committed) from \(point)")
        }
    }

    /// rsyslog's `zipLevel` writes one member all day, sync-flushed after each batch of lines.
    /// A point taken after any flush resumes exactly there, in every read size: the bytes
    /// after it are the member's, decoding reads nothing before it, and the trailer (CRC and
    /// length carried over from before the point) is still checked when the writer closes.
    @Test(arguments: [1, 7, 61, 4096, 1 << 16])
    func aRestartInsideAGrowingMemberGoesOnFromAnAccessPoint(readSize: Int) throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.path + "/growing.gz"
        let writer = try LogWriter(path: path, gzipLevel: 6)
        let live = try GzipDecoder(file: InputFile(path: path), readSize: readSize, live: true)
        var expected: [UInt8] = [], out: [UInt8] = [], gaps = 0
        var resumed: [(decoder: GzipDecoder, point: ResumePoint, out: [UInt8])] = []
        for step in 0..<12 {
            for i in 0..<(step * 40 + 1) {
                let l = Array(Self.line(step * 1000 + i).utf8)
                expected += l
                try writer.write(l)
            }
            try writer.syncFlush()
            try Self.drain(live, into: &out, gaps: &gaps, size: 997)
            for k in resumed.indices { try Self.drain(resumed[k].decoder, into: &resumed[k].out, gaps: &gaps, size: 997) }
            #expect(out == expected)
            let point = live.resumePoint(for: live.decodedOffset)
            #expect(point.access != nil && point.decodedOffset == expected.count, "step \(step): a point where the flush ended")
            #expect(point.access?.memberStart == 0)
            let again = try GzipDecoder(file: InputFile(path: path), readSize: readSize, live: true, from: point)
            #expect(again.bytesConsumed == point.fileOffset, "nothing before the point is read")
            resumed.append((again, point, []))
        }
        try writer.finish()
        try Self.drain(live, into: &out, gaps: &gaps, size: 997)
        #expect(out == expected && live.damage.isEmpty)
        for r in resumed {
            var rest = r.out
            var g = 0
            try Self.drain(r.decoder, into: &rest, gaps: &g, size: 997)
            #expect(rest == Array(expected[r.point.decodedOffset...]), "resumed at \(r.point.decodedOffset)")
            #expect(r.decoder.damage.isEmpty && g == 0, "the trailer matched the CRC and length carried over")
            #expect(r.decoder.decodedOffset == expected.count)
        }
        // A trailer that does not match what was decoded before and after the point is damage.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let inside = resumed[resumed.count / 2].point
        bytes[bytes.count - 6] ^= 1
        let damaged = dir.file("damaged.gz", bytes)
        let fromPoint = try GzipDecoder(file: InputFile(path: damaged), readSize: readSize, live: false,
                                        from: inside)
        var ignored: [UInt8] = [], g = 0
        try Self.drain(fromPoint, into: &ignored, gaps: &g)
        #expect(fromPoint.damage.map(\.kind) == [.corruptMember] && fromPoint.damage.first?.offset == 0)
    }

    /// A member written without flushes (a big file being compressed) has block ends at any
    /// bit: access points every `accessSpan` decoded bytes, each a correct place to go on.
    @Test func accessPointsInsideUnflushedBlocksResumeAtAnyBit() throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.path + "/big.gz"
        let writer = try LogWriter(path: path, gzipLevel: 6)
        var expected: [UInt8] = []
        var i = 0
        while expected.count < 4 * GzipDecoder.accessSpan {
            let l = Array("\(i * 7919 % 100_003),call,\(i % 17),\(Self.line(i))".utf8)
            expected += l
            try writer.write(l)
            i += 1
        }
        try writer.finish()
        let live = try GzipDecoder(file: InputFile(path: path), readSize: 1 << 16, live: true)
        var out: [UInt8] = [], gaps = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let (n, _) = try live.read(into: buffer)
            out += buffer[0..<n]
            if n == 0 { break }
        }
        // Every point taken (none was asked for, so none was let go).
        let points = live.memberStarts.filter { $0.access != nil }
        #expect(out == expected && gaps == 0)
        #expect(points.count >= 3, "a point at least every \(GzipDecoder.accessSpan) bytes")
        #expect(points.contains { ($0.access?.bits ?? 0) != 0 }, "some block ends inside a byte")
        for point in points {
            #expect(point.access?.window.count == AccessPoint.windowSize)
            let again = try GzipDecoder(file: InputFile(path: path), readSize: 4099, live: false, from: point)
            var rest: [UInt8] = []
            try Self.drain(again, into: &rest, gaps: &gaps, size: 65_536)
            #expect(rest == Array(expected[point.decodedOffset...]), "from \(point.decodedOffset), \(point.access!.bits) bits")
            #expect(again.damage.isEmpty)
        }
    }
}
