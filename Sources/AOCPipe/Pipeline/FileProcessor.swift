import Dispatch
import Synchronization

/// What one file (or many, merged) contributed: counts per source, samples, damage.
public struct FileResult: Sendable {
    public var aggregate: PartialAggregate
    public var stats: InputStats
    public var samples: [QuarantineSample]

    /// The aggregate, leaving an empty one: the caller then holds its only copy, which merges
    /// by moving its memory rather than copying it.
    public mutating func takeAggregate() -> PartialAggregate {
        let taken = aggregate
        aggregate = PartialAggregate(reportZone: aggregate.cursor.zone, tracksMinutes: aggregate.tracksMinutes)
        return taken
    }
}

/// Reads, decodes, frames and parses one file.
///
/// Decoding runs on `decodeQueue` while framing and parsing run on the calling thread, with
/// `slots` buffers of `chunkSize` bytes in between: one big archive keeps two cores busy, and
/// memory stays bounded whatever the file size.
public struct FileProcessor: Sendable {
    public var chunkSize = 1 << 20
    public var slots = 4
    public var readSize = 256 * 1024
    public var maxLineBytes = 65_536
    let decodeQueue = DispatchQueue(label: "aocpipe.decode", qos: .userInitiated, attributes: .concurrent)

    public init(maxLineBytes: Int = 65_536) { self.maxLineBytes = maxLineBytes }

    /// Processes `path` for `source` into a fresh aggregate of the report zone's windows.
    /// `progress` counts bytes consumed.
    public func process(path: String, source: PipelineConfig.Source, reportZone: Zone,
                        progress: ProgressCounter? = nil) throws(InputError) -> FileResult {
        switch source.format {
        case .asteriskCDR:
            return try run(path: path, source: source.name, progress: progress,
                           worker: SourceWorker(parser: AsteriskCDRParser(hotline: source.hotline, sourceZone: source.zone),
                                                aggregate: PartialAggregate(reportZone: reportZone), source: source.name, file: path))
        case .freezeJSONL:
            return try run(path: path, source: source.name, progress: progress,
                           worker: SourceWorker(parser: FreezeJSONParser(), aggregate: PartialAggregate(reportZone: reportZone), source: source.name, file: path))
        }
    }

    func run<P: LineParser>(path: String, source: String, progress: ProgressCounter?,
                            worker: SourceWorker<P>) throws(InputError) -> FileResult {
        var worker = worker
        let file = try InputFile(path: path)
        let decoder = try Decoding.decoder(for: file, readSize: readSize)
        let ring = ChunkRing(slots: slots, chunkSize: chunkSize)
        let job = DecodeJob(decoder: decoder, ring: ring, progress: progress)
        decodeQueue.async { job.run() }

        var framer = LineFramer(maxLineBytes: maxLineBytes)
        var slot = 0
        var failure: InputError?
        while true {
            ring.filled.wait()
            let chunk = ring.chunks[slot]
            framer.feed(UnsafeRawBufferPointer(rebasing: chunk.buffer[0..<chunk.count]), into: &worker)
            if chunk.gap { framer.gap(into: &worker) }
            let last = chunk.last
            if last { failure = chunk.error }
            ring.free.signal()
            if last { break }
            slot = (slot + 1) % ring.chunks.count
        }
        job.finished.wait()
        if let failure { throw failure }
        framer.finish(into: &worker)
        worker.stats.files = 1
        worker.stats.lines = framer.lines
        worker.stats.bytesDecoded = framer.offset
        worker.stats.bytesRead = decoder.bytesConsumed
        worker.stats.damage = decoder.damage
        return FileResult(aggregate: worker.aggregate, stats: worker.stats, samples: worker.samples)
    }
}

/// Buffers handed from the decoding thread to the parsing thread, in order.
final class ChunkRing: @unchecked Sendable {
    /// One buffer and what the decoder left in it. Written by the decoder before `filled` is
    /// signalled, read by the parser before `free` is signalled: the semaphores order access.
    final class Chunk: @unchecked Sendable {
        let buffer: UnsafeMutableRawBufferPointer
        var count = 0
        var gap = false
        var last = false
        var error: InputError?

        init(size: Int) { buffer = .allocate(byteCount: size, alignment: 64) }
        deinit { buffer.deallocate() }
    }

    let chunks: [Chunk]
    let free: DispatchSemaphore
    let filled = DispatchSemaphore(value: 0)

    init(slots: Int, chunkSize: Int) {
        chunks = (0..<max(slots, 2)).map { _ in Chunk(size: max(chunkSize, 1)) }
        free = DispatchSemaphore(value: chunks.count)
    }
}

/// The decoding side of one file: fills ring slots until the decoder runs dry.
final class DecodeJob: @unchecked Sendable {
    let decoder: any ByteDecoder  // used only by `run`, on the decode queue
    let ring: ChunkRing
    let progress: ProgressCounter?
    let finished = DispatchSemaphore(value: 0)

    init(decoder: any ByteDecoder, ring: ChunkRing, progress: ProgressCounter?) {
        self.decoder = decoder
        self.ring = ring
        self.progress = progress
    }

    func run() {
        var slot = 0
        var consumed = 0
        while true {
            ring.free.wait()
            let chunk = ring.chunks[slot]
            do {
                let (count, gap) = try decoder.read(into: chunk.buffer)
                chunk.count = count
                chunk.gap = gap
                chunk.last = count == 0 && !gap
                chunk.error = nil
            } catch {
                chunk.count = 0
                chunk.gap = false
                chunk.last = true
                chunk.error = error
            }
            if let progress {
                let now = decoder.bytesConsumed
                progress.add(now - consumed)
                consumed = now
            }
            let last = chunk.last
            ring.filled.signal()
            if last { break }
            slot = (slot + 1) % ring.chunks.count
        }
        finished.signal()
    }
}

/// Bytes consumed across all files, read by the progress bar while workers add to it.
public final class ProgressCounter: Sendable {
    let value = Atomic<Int>(0)
    public init() {}
    public func add(_ n: Int) { value.add(n, ordering: .relaxed) }
    public var current: Int { value.load(ordering: .relaxed) }
}
