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

    /// Cutting a stream into buffers of whole lines (batch's parallel path), then framing each
    /// buffer on its own, gives what one framer over the stream gives: the same lines at the
    /// same offsets, the same broken lines, whatever the buffer size and wherever gaps fall.
    @Test func cutBuffersFrameAsTheWholeStreamDoes() {
        let long = String(repeating: "x", count: 150)
        let text = Array("ok1\n\(long)\nab\r\n\ncd\n\(long)\(long)\nlast-\(String(repeating: "y", count: 60))\nend".utf8)
        for gapAt in [nil, 30, 200, 420] as [Int?] {
            // The reference: one framer over the stream, a gap where the stream breaks.
            var whole = LineFramer(maxLineBytes: 64)
            var expected = CollectingSink()
            let pieces = gapAt.map { [Array(text[..<$0]), Array(text[$0...])] } ?? [text]
            for (k, piece) in pieces.enumerated() {
                piece.withUnsafeBytes { whole.feed($0, into: &expected) }
                if k + 1 < pieces.count { whole.gap(into: &expected) }
            }
            whole.finish(into: &expected)
            for size in 1...70 {
                var cutter = LineFramer(maxLineBytes: 64)
                var got = CollectingSink()
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size + 65, alignment: 1)
                defer { buffer.deallocate() }
                var lines = 0
                /// Frames one cut buffer with a fresh framer, as a parsing thread does.
                func frame(_ range: Range<Int>, at offset: Int, last: Bool) {
                    var framer = LineFramer(maxLineBytes: 64, startOffset: offset)
                    framer.feed(UnsafeRawBufferPointer(rebasing: buffer[range]), into: &got)
                    if last { framer.finish(into: &got) }
                    lines += framer.lines
                }
                for (k, piece) in pieces.enumerated() {
                    var i = 0
                    while i < piece.count {
                        let n = min(size, piece.count - i)
                        let (held, _) = cutter.prepend(into: buffer)
                        buffer.baseAddress!.advanced(by: held).copyMemory(from: Array(piece[i..<(i + n)]), byteCount: n)
                        i += n
                        let gap = i == piece.count && k + 1 < pieces.count
                        let cut = cutter.cut(buffer, count: n, gap: gap, into: &got)
                        frame(cut.lines, at: cut.startOffset, last: false)
                    }
                }
                let (held, start) = cutter.prepend(into: buffer)
                cutter.finishCut(into: &got)
                frame(0..<held, at: start, last: true)
                let label = "size \(size), gap \(gapAt.map(String.init) ?? "none")"
                #expect(got.lines == expected.lines, "\(label)")
                #expect(got.offsets == expected.offsets, "\(label)")
                #expect(got.broken.map(\.0).sorted() == expected.broken.map(\.0).sorted(), "\(label)")
                #expect(got.broken.map(\.1).sorted() == expected.broken.map(\.1).sorted(), "\(label)")
                #expect(lines + cutter.lines == whole.lines, "\(label)")
                #expect(cutter.offset == text.count, "\(label)")
            }
        }
    }
}
