/// Reads one file through the stages before it, in every mode (batch on one thread, follow,
/// validate): the file's decoder (plain or gzip, finite or live), the line framer, and a line
/// sink, usually a parsing worker. Reads go in rounds of at most a budget of decoded bytes; a
/// partial last line waits in the framer until its newline arrives (or `finish` says there
/// is no more).
///
/// Batch's parallel path (`FileProcessor` with more than one thread) cuts the same stream
/// into buffers with the framer's own carry logic, so both paths frame alike.
public final class FileReader<Sink: LineSink> {
    public let file: InputFile
    let decoder: any ByteDecoder
    private(set) var framer: LineFramer
    var sink: Sink
    /// Decoded bytes still to skip to reach the resume position (counted before).
    private var skip: Int
    /// What `drain` has reported so far (follow drains after every poll).
    private var reportedLines = 0, reportedDecoded = 0, reportedRead = 0, reportedDamage = 0

    /// Opens the decoder its first bytes call for. `committed`: the decoded offset up to which
    /// lines were counted before (a checkpoint's position), reached by decoding from `resume`
    /// (a point the decoder gave out, at or before it). `live`: the file may still grow.
    public init(file: InputFile, sink: Sink, maxLineBytes: Int, readSize: Int = 256 * 1024, live: Bool = false,
                resume: ResumePoint = .start, committed: Int = 0, engine: InflateEngines.Kind? = nil) throws(InputError) {
        self.file = file
        self.sink = sink
        decoder = try Decoding.decoder(for: file, readSize: readSize, live: live, from: resume, engine: engine)
        skip = max(committed - resume.decodedOffset, 0)
        framer = LineFramer(maxLineBytes: maxLineBytes, startOffset: committed)
        reportedDecoded = committed
        reportedRead = decoder.bytesConsumed
    }

    /// Decodes, frames and parses what can be decoded now, at most about `budget` decoded
    /// bytes, through `buffer`. Returns the decoded bytes read: 0 when nothing more can be
    /// decoded now (for a finite file, its end: then `finish`).
    @discardableResult
    public func read(into buffer: UnsafeMutableRawBufferPointer, budget: Int = .max) throws(InputError) -> Int {
        var total = 0
        while total < budget {
            let (n, gap) = try decoder.read(into: buffer)
            if n == 0 && !gap { break }
            total += n
            var chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            if skip > 0 {
                let s = min(skip, n)
                skip -= s
                chunk = UnsafeRawBufferPointer(rebasing: chunk[s...])
            }
            framer.feed(chunk, into: &sink)
            if gap { framer.gap(into: &sink) }
        }
        return total
    }

    /// End of input: a last line without a newline is still a line.
    public func finish() { framer.finish(into: &sink) }

    /// Bytes of the file consumed so far (compressed, for gzip).
    public var bytesConsumed: Int { decoder.bytesConsumed }

    /// The decoded offset up to which every line was counted (while skipping to the resume
    /// position, that position), and where decoding can restart to reach it.
    public var committed: (offset: Int, resume: ResumePoint) {
        let offset = framer.committedOffset
        return (offset, decoder.resumePoint(for: offset))
    }

    /// What was read since the last drain, from the framer's and decoder's counts: lines,
    /// decoded and read bytes, damage (the sink's own counts are the caller's to add).
    func drainInput() -> InputStats {
        var stats = InputStats()
        stats.lines = framer.lines - reportedLines
        stats.bytesDecoded = framer.offset - reportedDecoded
        stats.bytesRead = decoder.bytesConsumed - reportedRead
        stats.damage = Array(decoder.damage[reportedDamage...])
        reportedLines = framer.lines
        reportedDecoded = framer.offset
        reportedRead = decoder.bytesConsumed
        reportedDamage = decoder.damage.count
        return stats
    }
}

extension FileReader {
    /// What a parsing worker counted since the last drain: aggregate, input stats, samples.
    /// The worker goes on with an empty aggregate.
    func drain<P: LineParser>() -> FileResult where Sink == SourceWorker<P> {
        var stats = sink.stats  // records, skipped, malformed
        stats += drainInput()
        var result = FileResult(aggregate: sink.aggregate.take(), callLines: sink.takeCalls(), stats: stats, samples: sink.samples)
        // Not past the committed offset: a partial last line is decoded again from there.
        result.resume = decoder.resumePoint(for: framer.committedOffset)
        sink.stats = InputStats()
        sink.samples = []
        return result
    }
}

extension FileReader {
    /// Makes calls of the call lines read so far, in order, counting them in the worker's aggregate.
    func countCalls<P: LineParser>(into calls: inout CallSegment) where Sink == SourceWorker<P> {
        guard !sink.calls.isEmpty else { return }
        calls.observe(sink.calls, into: &sink.aggregate)
        sink.calls.removeAll(keepingCapacity: true)
    }
}

/// What one file (or many, merged) contributed: counts per source, samples, damage.
public struct FileResult: Sendable {
    public var aggregate: PartialAggregate
    /// Call lines not yet made calls of (follow: the source's stream does that).
    var callLines: [CallObservation]
    /// The calls of the lines read (batch: a file's, joined with the source's other files').
    var calls: CallSegment

    init(aggregate: PartialAggregate, callLines: [CallObservation] = [], calls: CallSegment = CallSegment(lateness: 0),
         stats: InputStats, samples: [QuarantineSample]) {
        self.aggregate = aggregate
        self.callLines = callLines
        self.calls = calls
        self.stats = stats
        self.samples = samples
    }
    public var stats: InputStats
    public var samples: [QuarantineSample]
    /// Where decoding can restart to go on after what was read (batch: a file that grows).
    public var resume = ResumePoint.start
}
