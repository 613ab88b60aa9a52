import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// One file parsed by several threads: buffers cut at line ends (`LineFramer.cut`) must give
/// exactly what one framer over the whole stream gives, at every buffer size.
@Suite struct FileProcessorTests {
    static let maxLine = 300
    static let source = PipelineConfig.Source(name: "t", format: .asteriskCDR, paths: [], zone: bangkok)

    /// CDR lines of every kind: good ones over several hours, malformed ones, blank lines,
    /// CRLF, lines around and far over the length limit, and no final newline.
    static let text: [UInt8] = {
        var rng = SeededRandom(seed: 5)
        let good = AsteriskCDRParserTests.example
        var lines: [String] = []
        for i in 0..<400 {
            switch rng.below(12) {
            case 0: lines.append("")
            case 1: lines.append(#""","0812345678","1441""#)                                  // column_count
            case 2: lines.append(String(repeating: "x", count: maxLine - 2 + rng.below(5)))  // around the limit
            case 3: lines.append(String(repeating: "y", count: maxLine * (2 + rng.below(6)))) // far over it
            case 4: lines.append(good + "\r")                                                 // CRLF
            default:
                // Hours out of order and ids that repeat: calls whose lines are far apart, some
                // more than the lateness, so the calls depend on the lines' order.
                lines.append(good.replacingOccurrences(of: "2023-11-01 08:15:02", with: "2023-11-01 \(10 + i % 12):15:02")
                    .replacingOccurrences(of: "1698801302.4711", with: "1698801302.\(i % 50)"))
            }
        }
        return Array((lines.joined(separator: "\n") + "\n" + good).utf8)
    }()

    /// What one `LineFramer` over the whole text finds.
    static func reference(_ text: [UInt8]) -> (stats: InputStats, samples: [String], calls: Int) {
        var worker = SourceWorker(parser: AsteriskCDRParser(hotline: "1441", sourceZone: bangkok),
                                  aggregate: PartialAggregate(reportZone: bangkok), source: "t", file: "f", maxSamples: 1000)
        var framer = LineFramer(maxLineBytes: maxLine)
        text.withUnsafeBytes { framer.feed($0, into: &worker) }
        framer.finish(into: &worker)
        worker.stats.lines = framer.lines
        var calls = CallSegment(lateness: Defaults.latenessMillis)
        calls.observe(worker.takeCalls(), into: &worker.aggregate)
        return (worker.stats, worker.samples.map { "\($0.offset) \($0.reason)" }, worker.aggregate.hourCounters.reduce(0) { $0 + $1.calls })
    }

    static func summary(_ r: FileResult) -> (stats: InputStats, samples: [String], calls: Int) {
        (r.stats, r.samples.map { "\($0.offset) \($0.reason)" }, r.aggregate.hourCounters.reduce(0) { $0 + $1.calls })
    }

    @Test(arguments: [1, 2, 3])
    func plainFileAtEveryBufferSize(threads: Int) throws {
        let dir = TempDir()
        defer { dir.remove() }
        let path = dir.file("Master.csv", Self.text)
        let expected = Self.reference(Self.text)
        #expect(expected.stats.malformedByReason[.lineTooLong, default: 0] > 10)
        for chunkSize in [1, 2, 3, 5, 8, 13, 64, 150, 299, 300, 301, 1000, 4096, 1 << 20] {
            var processor = FileProcessor(maxLineBytes: Self.maxLine, threads: threads)
            processor.chunkSize = chunkSize
            processor.readSize = 7
            let got = Self.summary(try processor.process(path: path, source: Self.source, reportZone: bangkok))
            #expect(got.stats.lines == expected.stats.lines, "chunk \(chunkSize)")
            #expect(got.stats.records == expected.stats.records, "chunk \(chunkSize)")
            #expect(got.stats.skipped == expected.stats.skipped, "chunk \(chunkSize)")
            #expect(got.stats.malformedByReason == expected.stats.malformedByReason, "chunk \(chunkSize)")
            #expect(got.stats.bytesDecoded == Self.text.count, "chunk \(chunkSize)")
            #expect(got.samples == Array(expected.samples.prefix(20)), "chunk \(chunkSize)")
            #expect(got.calls == expected.calls, "chunk \(chunkSize)")
        }
    }

    @Test func damagedGzipGivesTheSameAtEveryBufferSizeAndParserCount() throws {
        // A corrupt member between good ones: the stream has a gap, and the line it cuts is
        // reported once, whoever parses which buffer.
        let dir = TempDir()
        defer { dir.remove() }
        let whole = Self.text
        let third = whole.count / 3
        var middle = gzipMember(Array(whole[third..<(2 * third)]))
        for i in (middle.count / 2)..<(middle.count / 2 + 64) { middle[i] = 0xFF }
        let path = dir.file("Master.csv.gz", gzipMember(Array(whole[..<third])) + middle + gzipMember(Array(whole[(2 * third)...])))
        // Per buffer size: what zlib gives out of a corrupt member before it notices can
        // depend on how much room it had, so each size is compared with one parser's result.
        for chunkSize in [1, 7, 300, 1 << 20] {
            var baseline: (stats: InputStats, samples: [String], calls: Int)?
            for threads in [1, 2, 3] {
                var processor = FileProcessor(maxLineBytes: Self.maxLine, threads: threads)
                processor.chunkSize = chunkSize
                let got = Self.summary(try processor.process(path: path, source: Self.source, reportZone: bangkok))
                #expect(got.stats.damage.count == 1)
                #expect(got.stats.malformedByReason[.truncated, default: 0] + got.stats.malformedByReason[.lineTooLong, default: 0] > 0)
                if let b = baseline {
                    #expect(got.stats.lines == b.stats.lines, "threads \(threads), chunk \(chunkSize)")
                    #expect(got.stats.malformedByReason == b.stats.malformedByReason, "threads \(threads), chunk \(chunkSize)")
                    #expect(got.samples == b.samples, "threads \(threads), chunk \(chunkSize)")
                    #expect(got.calls == b.calls, "threads \(threads), chunk \(chunkSize)")
                } else {
                    baseline = got
                }
            }
        }
    }
}
