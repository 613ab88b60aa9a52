import Testing
@testable import AOCPipe

@Suite struct LineFramerTests {
    /// Feeds `text` in chunks of `size` bytes and returns what the framer delivered.
    func frame(_ bytes: [UInt8], chunk size: Int, max: Int = 64) -> CollectingSink {
        var framer = LineFramer(maxLineBytes: max)
        var sink = CollectingSink()
        var i = 0
        while i < bytes.count {
            let end = Swift.min(i + size, bytes.count)
            bytes[i..<end].withUnsafeBytes { framer.feed($0, into: &sink) }
            i = end
        }
        framer.finish(into: &sink)
        return sink
    }

    @Test func everyChunkSizeGivesTheSameLines() {
        let text = Array("alpha\nbeta\r\n\ngamma delta\r\nlast line without newline".utf8)
        let expected = ["alpha", "beta", "", "gamma delta", "last line without newline"]
        let offsets = [0, 6, 12, 13, 26]
        for size in 1...(text.count + 1) {
            let sink = frame(text, chunk: size)
            #expect(sink.lines == expected, "chunk \(size)")
            #expect(sink.offsets == offsets, "chunk \(size)")
            #expect(sink.broken.isEmpty)
        }
    }

    @Test func overlongLinesAreReportedOnceAndSkipped() {
        let long = String(repeating: "x", count: 200)
        let text = Array("ok1\n\(long)\nok2\n\(long)".utf8)
        for size in [1, 2, 3, 7, 64, 65, 100, 1000] {
            let sink = frame(text, chunk: size, max: 64)
            #expect(sink.lines == ["ok1", "ok2"], "chunk \(size)")
            #expect(sink.broken.map(\.0) == [.lineTooLong, .lineTooLong], "chunk \(size)")
            #expect(sink.broken.map(\.1) == [4, 209], "chunk \(size)")
        }
    }

    @Test func lineOfExactlyTheLimitPasses() {
        let exact = String(repeating: "y", count: 64)
        for size in [1, 5, 64, 200] {
            let sink = frame(Array("\(exact)\r\n\(exact)x\n".utf8), chunk: size, max: 64)
            #expect(sink.lines == [exact], "chunk \(size)")
            #expect(sink.broken.map(\.0) == [.lineTooLong], "chunk \(size)")
        }
    }

    @Test func gapDropsThePartialLine() {
        var framer = LineFramer(maxLineBytes: 64)
        var sink = CollectingSink()
        Array("whole\npart".utf8).withUnsafeBytes { framer.feed($0, into: &sink) }
        framer.gap(into: &sink)
        Array("next\n".utf8).withUnsafeBytes { framer.feed($0, into: &sink) }
        framer.finish(into: &sink)
        #expect(sink.lines == ["whole", "next"])
        #expect(sink.broken.map(\.0) == [.truncated])
        #expect(sink.broken.map(\.1) == [6])
        #expect(framer.lines == 3)
    }
}
