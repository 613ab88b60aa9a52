import Dispatch
import Foundation
import Synchronization

/// Batch's reading of one file: decodes, frames and parses it into a fresh aggregate.
///
/// With one thread, a `FileReader` decodes and parses in turn. With more, one thread decodes
/// into `slots` buffers of `chunkSize` bytes cut at line ends by the framer's carry logic
/// (`LineFramer.cut`); the other `threads - 1` (the calling thread first) take the buffers in
/// any order, each framing and parsing into its own aggregate, merged at the end. When no
/// buffer is free but some are filled, the decoder parses the oldest itself instead of
/// waiting, and at the end it helps empty the queue. So one thread per core is enough: one big
/// archive keeps every core busy with no more threads than cores (no time slicing, which
/// cost the decoder a third of its speed in cache misses), the work going to whoever is free.
/// Memory stays bounded whatever the file size.
public struct FileProcessor: Sendable {
    public var chunkSize = 1 << 20
    public var slots = 4
    public var readSize = 256 * 1024
    public var maxLineBytes = Defaults.maxLineBytes
    /// How far apart the lines of one call may come (`CallSegment`).
    public var latenessMillis = Defaults.latenessMillis
    /// The record times counted; a record outside is `bad_time` (`PipelineConfig.eventTimes`).
    public var eventTimes: ClosedRange<Int> = Int.min...Int.max
    /// Threads per file (at least 1): one decodes (and parses when ahead), the others parse.
    public var threads = 1
    let decodeQueue = DispatchQueue(label: "aocpipe.decode", qos: .userInitiated, attributes: .concurrent)

    public init(maxLineBytes: Int = Defaults.maxLineBytes, threads: Int = 1) {
        self.maxLineBytes = maxLineBytes
        self.threads = max(threads, 1)
    }

    /// Processes `path` for `source` into a fresh aggregate of the report zone's windows.
    /// `progress` counts bytes consumed.
    /// `from`: where an earlier run stopped in this file (a checkpoint's position): only what
    /// follows is counted, on one thread.
    public func process(path: String, source: PipelineConfig.Source, reportZone: Zone,
                        progress: ProgressCounter? = nil, from position: Checkpoint.FilePosition? = nil) throws(InputError) -> FileResult {
        try source.withParser(Job(processor: self, path: path, source: source.name, zone: reportZone, progress: progress, position: position))
    }

    /// The work on one file, once its parser is known.
    struct Job: ParserUser {
        let processor: FileProcessor
        let path: String
        let source: String
        let zone: Zone
        let progress: ProgressCounter?
        let position: Checkpoint.FilePosition?

        func use<P: LineParser>(_ parser: P) throws(InputError) -> FileResult {
            let file = try InputFile(path: path)
            var worker = SourceWorker(parser: parser, aggregate: PartialAggregate(reportZone: zone), source: source, file: path)
            worker.eventTimes = processor.eventTimes
            if let position {
                var result = try processor.readAlone(file, worker: worker, progress: progress, from: position)
                result.stats.files = 0  // counted when it was first read
                return result
            }
            var result = processor.threads == 1
                ? try processor.readAlone(file, worker: worker, progress: progress)
                : try processor.readInParallel(file, worker: worker, progress: progress)
            result.stats.files = 1
            return result
        }
    }

    /// One thread: decode and parse in turn, a buffer at a time, while its bytes are in cache.
    func readAlone<P: LineParser>(_ file: InputFile, worker: SourceWorker<P>, progress: ProgressCounter?,
                                  from position: Checkpoint.FilePosition? = nil) throws(InputError) -> FileResult {
        var resume = ResumePoint.start, committed = 0
        if let position {
            committed = position.decodedOffset
            // A resume point is only valid for the encoding it was taken on.
            if position.resumeIsGzip == (try Decoding.isGzip(file)), position.resume.decodedOffset <= committed { resume = position.resume }
        }
        let reader = try FileReader(file: file, sink: worker, maxLineBytes: maxLineBytes, readSize: readSize,
                                    resume: resume, committed: committed)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(chunkSize, 1), alignment: 64)
        defer { buffer.deallocate() }
        var consumed = reader.bytesConsumed
        var calls = CallSegment(lateness: latenessMillis)
        while try reader.read(into: buffer, budget: 1) > 0 {
            progress?.add(reader.bytesConsumed - consumed)
            consumed = reader.bytesConsumed
            reader.countCalls(into: &calls)
        }
        reader.finish()
        reader.countCalls(into: &calls)
        var result = reader.drain()
        result.calls = calls
        return result
    }

    func readInParallel<P: LineParser>(_ file: InputFile, worker: SourceWorker<P>,
                                       progress: ProgressCounter?) throws(InputError) -> FileResult {
        let decoder = try Decoding.decoder(for: file, readSize: readSize)
        let parsers = max(threads, 1) - 1
        let pool = ChunkPool(slots: max(slots, parsers + 2), chunkSize: chunkSize, carryRoom: maxLineBytes + 1)
        let job = DecodeJob(decoder: decoder, pool: pool, maxLineBytes: maxLineBytes, parsers: parsers, progress: progress)
        let maxLineBytes = self.maxLineBytes
        let sequencer = CallSequencer(lateness: latenessMillis, reportZone: worker.aggregate.cursor.zone)
        // The decoder's own parsing; used on the decoding thread only.
        let decoderLane = ParseLane(worker: worker, maxLineBytes: maxLineBytes, sequencer: sequencer)
        let decode: @Sendable () -> Void = { job.run { slot in decoderLane.parse(pool.chunks[slot]) } }

        let results = Locked<[ParseResult<P>]>([])
        let parse: @Sendable () -> Void = {
            let lane = ParseLane(worker: worker, maxLineBytes: maxLineBytes, sequencer: sequencer)
            while let slot = pool.takeFilled() {
                lane.parse(pool.chunks[slot])
                pool.putFree(slot)
            }
            let result = lane.result()
            results.withLock { $0.append(result) }
        }
        decodeQueue.async(execute: decode)
        let helpers = DispatchGroup()
        for _ in 1..<parsers {
            helpers.enter()
            Thread.detachNewThread { parse(); helpers.leave() }
        }
        parse()
        helpers.wait()
        job.finished.wait()

        // Taken out (not copied), so each part's aggregate is held once and merges by moving.
        var parts = results.withLock { r in
            let taken = r
            r = []
            return taken
        }
        parts.append(decoderLane.result())
        if let failure = parts.lazy.compactMap(\.failure).first { throw failure }
        // Into the part with the most join records: the others' are the ones copied.
        parts.sort { $0.worker.aggregate.joinRecordCount < $1.worker.aggregate.joinRecordCount }
        var merged = parts.removeLast().worker
        while var part = parts.popLast() {
            merged.aggregate.merge(part.worker.aggregate.take())
            merged.stats += part.worker.stats
            merged.samples += part.worker.samples
        }
        let (calls, callCounts) = sequencer.result()
        merged.aggregate.merge(callCounts)
        merged.samples.sort { $0.offset < $1.offset }
        if merged.samples.count > merged.maxSamples { merged.samples.removeLast(merged.samples.count - merged.maxSamples) }
        merged.stats.lines += job.brokenLines
        merged.stats.bytesDecoded = job.decodedBytes
        merged.stats.bytesRead = decoder.bytesConsumed
        merged.stats.damage = decoder.damage
        var result = FileResult(aggregate: merged.aggregate, calls: calls, stats: merged.stats, samples: merged.samples)
        result.resume = decoder.resumePoint(for: job.decodedBytes)
        return result
    }
}

/// Bytes consumed across all files, read by the progress bar while workers add to it.
public final class ProgressCounter: Sendable {
    let value = Atomic<Int>(0)
    public init() {}
    public func add(_ n: Int) { value.add(n, ordering: .relaxed) }
    public var current: Int { value.load(ordering: .relaxed) }
}
