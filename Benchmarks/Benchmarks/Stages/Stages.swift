// One benchmark per stage of the hot path, each over the same synthetic data (made once, in
// memory, by aocpipe's own generator): inflate, framing, CDR parse, JSONL parse, aggregation.
// Throughput is reported per MB of decoded text (`scalingFactor: .mega` on bytes), mallocs
// per run: a stage that allocates per line shows up as thousands of mallocs.
import AOCPipe
import AOCPipeSynthetic
import Benchmark
import Foundation

/// The synthetic day's logs, plain and gzip, and where they are.
struct Data {
    let dir: String
    let cdr: [UInt8], freeze: [UInt8]
    let cdrGzip: String, freezePlain: String

    static let shared: Data = {
        // The generator is deterministic: made once, kept for later runs.
        let dir = NSTemporaryDirectory() + "aocpipe-stage-benchmarks"
        if !FileManager.default.fileExists(atPath: dir + "/gz/truth.json") {
            var profile = SyntheticProfile()
            profile.days = 1
            profile.callsPerDay = 100_000
            profile.gzipLevel = nil
            _ = try! profile.generate(outDir: dir + "/plain")
            profile.gzipLevel = 6
            _ = try! profile.generate(outDir: dir + "/gz")
        }
        let cdr = Array(FileManager.default.contents(atPath: dir + "/plain/telephony/Master.csv-0001")!)
        let freeze = Array(FileManager.default.contents(atPath: dir + "/plain/freeze/freeze.jsonl-0001")!)
        return Data(dir: dir, cdr: cdr, freeze: freeze, cdrGzip: dir + "/gz/telephony/Master.csv-0001.gz",
                    freezePlain: dir + "/plain/freeze/freeze.jsonl-0001")
    }()
}

/// Counts lines into a parser and an aggregate: the parse stage's sink.
struct ParsingSink<P: LineParser>: LineSink {
    var parser: P
    var aggregate = PartialAggregate(reportZone: Zone(identifier: "Asia/Bangkok")!)
    var records = 0

    mutating func line(_ bytes: UnsafeRawBufferPointer, offset: Int) {
        if case .event(let e) = parser.parse(bytes) {
            records += 1
            aggregate.add(e)
        }
    }

    mutating func brokenLine(_ reason: MalformedReason, offset: Int) {}
}

/// Only counts lines: the framing stage alone.
struct CountingSink: LineSink {
    var lines = 0
    var bytes = 0
    mutating func line(_ b: UnsafeRawBufferPointer, offset: Int) { lines += 1; bytes &+= b.count }
    mutating func brokenLine(_ reason: MalformedReason, offset: Int) {}
}

/// Feeds `text` through a framer in 1 MiB chunks, as the pipeline does.
func frame<S: LineSink>(_ text: [UInt8], into sink: inout S) {
    var framer = LineFramer(maxLineBytes: 65_536)
    text.withUnsafeBytes { all in
        var i = 0
        while i < all.count {
            let n = min(1 << 20, all.count - i)
            framer.feed(UnsafeRawBufferPointer(rebasing: all[i..<(i + n)]), into: &sink)
            i += n
        }
    }
    framer.finish(into: &sink)
}

let bangkok = Zone(identifier: "Asia/Bangkok")!

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(5),
        maxIterations: 20
    )
    let data = Data.shared

    Benchmark("Inflate CDR archive (\(data.cdr.count / 1_000_000) MB decoded)") { benchmark in
        let file = try InputFile(path: data.cdrGzip)
        let decoder = try Decoding.decoder(for: file)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var total = 0
        benchmark.startMeasurement()
        while true {
            let (n, gap) = try decoder.read(into: buffer)
            if n == 0 && !gap { break }
            total += n
        }
        benchmark.stopMeasurement()
        precondition(total == data.cdr.count)
    }

    Benchmark("Frame CDR lines, memchr (\(data.cdr.count / 1_000_000) MB)") { benchmark in
        var sink = CountingSink()
        frame(data.cdr, into: &sink)
        blackHole(sink.lines)
    }

    Benchmark("Parse + count CDR (\(data.cdr.count / 1_000_000) MB)") { benchmark in
        var sink = ParsingSink(parser: AsteriskCDRParser(hotline: "1441", sourceZone: bangkok))
        frame(data.cdr, into: &sink)
        blackHole(sink.records)
    }

    Benchmark("Parse + count freeze JSONL (\(data.freeze.count / 1_000_000) MB)") { benchmark in
        var sink = ParsingSink(parser: FreezeJSONParser())
        frame(data.freeze, into: &sink)
        blackHole(sink.records)
    }

    // Aggregation alone: events parsed beforehand, then counted and joined into a report.
    let events: [Event] = {
        var collect = CollectingEvents(parser: FreezeJSONParser())
        frame(data.freeze, into: &collect)
        var cdr = CollectingEvents(parser: AsteriskCDRParser(hotline: "1441", sourceZone: bangkok))
        frame(data.cdr, into: &cdr)
        return collect.events + cdr.events
    }()
    Benchmark("Aggregate \(events.count) events + latency join + report") { benchmark in
        var aggregate = PartialAggregate(reportZone: bangkok)
        for e in events { aggregate.add(e) }
        let report = Report(pipeline: "bench", zone: bangkok, aggregate: aggregate, input: InputStats(), sources: [],
                            slaMillis: 900_000, latenessMillis: 7_200_000)
        blackHole(report.totals.counters.calls)
    }

    Benchmark("Batch a freeze JSONL file, end to end, 2 threads (\(data.freeze.count / 1_000_000) MB)") { benchmark in
        let processor = FileProcessor(maxLineBytes: 65_536, threads: 2)
        let source = PipelineConfig.Source(name: "freeze", format: .freezeJSONL, paths: [], zone: bangkok)
        let result = try processor.process(path: data.freezePlain, source: source, reportZone: bangkok)
        blackHole(result.stats.records)
    }
}

/// Collects parsed events (for the aggregation benchmark's input).
struct CollectingEvents<P: LineParser>: LineSink {
    var parser: P
    var events: [Event] = []
    mutating func line(_ bytes: UnsafeRawBufferPointer, offset: Int) {
        if case .event(let e) = parser.parse(bytes) { events.append(e) }
    }
    mutating func brokenLine(_ reason: MalformedReason, offset: Int) {}
}
