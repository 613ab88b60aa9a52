import Dispatch
import Foundation
import Synchronization

/// What one file (or many, merged) contributed: counts per source, samples, damage.
public struct FileResult: Sendable {
    public var aggregate: PartialAggregate
    public var stats: InputStats
    public var samples: [QuarantineSample]
}

/// Reads, decodes, frames and parses one file.
///
/// One thread decodes into `slots` buffers of `chunkSize` bytes, cutting them at line ends
/// (`ChunkAligner`); the other `threads - 1` (the calling thread first) take the buffers in
/// any order, each framing and parsing into its own aggregate, merged at the end. When no
/// buffer is free but some are filled, the decoder parses the oldest itself instead of
/// waiting, and at the end it helps empty the queue. So one thread per core is enough: one big
/// archive keeps every core busy with no more threads than cores (no time slicing, which
/// cost the decoder a third of its speed in cache misses), the work going to whoever is
/// free; with one thread a file is decoded and parsed in turn. Memory stays bounded whatever
/// the file size.
public struct FileProcessor: Sendable {
    public var chunkSize = 1 << 20
    public var slots = 4
    public var readSize = 256 * 1024
    public var maxLineBytes = 65_536
    /// Threads per file (at least 1): one decodes (and parses when ahead), the others parse.
    public var threads = 1
    let decodeQueue = DispatchQueue(label: "aocpipe.decode", qos: .userInitiated, attributes: .concurrent)

    public init(maxLineBytes: Int = 65_536, threads: Int = 1) {
        self.maxLineBytes = maxLineBytes
        self.threads = max(threads, 1)
    }

    /// Processes `path` for `source` into a fresh aggregate of the report zone's windows.
    /// `progress` counts bytes consumed.
    public func process(path: String, source: PipelineConfig.Source, reportZone: Zone,
                        progress: ProgressCounter? = nil) throws(InputError) -> FileResult {
        switch source.format {
        case .asteriskCDR:
            let parser = AsteriskCDRParser(hotline: source.hotline, sourceZone: source.zone)
            return try run(path: path, progress: progress) {
                SourceWorker(parser: parser, aggregate: PartialAggregate(reportZone: reportZone), source: source.name, file: path)
            }
        case .freezeJSONL:
            return try run(path: path, progress: progress) {
                SourceWorker(parser: FreezeJSONParser(), aggregate: PartialAggregate(reportZone: reportZone), source: source.name, file: path)
            }
        }
    }

    func run<P: LineParser>(path: String, progress: ProgressCounter?,
                            worker makeWorker: @escaping @Sendable () -> SourceWorker<P>) throws(InputError) -> FileResult {
        let file = try InputFile(path: path)
        let decoder = try Decoding.decoder(for: file, readSize: readSize)
        let parsers = max(threads, 1) - 1
        // Alone, the decoder parses each buffer as soon as the next is to be filled (two
        // buffers: the carry needs the previous one), while its bytes are still in cache.
        let pool = ChunkPool(slots: parsers == 0 ? 2 : max(slots, parsers + 2), chunkSize: chunkSize, carryRoom: maxLineBytes + 1)
        let job = DecodeJob(decoder: decoder, pool: pool, aligner: ChunkAligner(maxLineBytes: maxLineBytes),
                            parsers: parsers, progress: progress)
        let maxLineBytes = self.maxLineBytes
        // The decoder's own parsing; used on the decoding thread only.
        let decoderLane = ParseLane(worker: makeWorker(), maxLineBytes: maxLineBytes)
        let decode: @Sendable () -> Void = { job.run { slot in decoderLane.parse(pool.chunks[slot]) } }

        let results = Locked<[ParseResult<P>]>([])
        let parse: @Sendable () -> Void = {
            let lane = ParseLane(worker: makeWorker(), maxLineBytes: maxLineBytes)
            while let slot = pool.takeFilled() {
                lane.parse(pool.chunks[slot])
                pool.putFree(slot)
            }
            let result = lane.result()
            results.withLock { $0.append(result) }
        }
        if parsers == 0 {
            decode()
        } else {
            decodeQueue.async(execute: decode)
            let helpers = DispatchGroup()
            for _ in 1..<parsers {
                helpers.enter()
                Thread.detachNewThread { parse(); helpers.leave() }
            }
            parse()
            helpers.wait()
        }
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
        merged.samples.sort { $0.offset < $1.offset }
        if merged.samples.count > merged.maxSamples { merged.samples.removeLast(merged.samples.count - merged.maxSamples) }
        merged.stats.lines += job.aligner.brokenLines
        merged.stats.files = 1
        merged.stats.bytesDecoded = job.aligner.offset
        merged.stats.bytesRead = decoder.bytesConsumed
        merged.stats.damage = decoder.damage
        return FileResult(aggregate: merged.aggregate, stats: merged.stats, samples: merged.samples)
    }
}

/// What one parsing thread made of its share of a file.
struct ParseResult<P: LineParser>: Sendable {
    var worker: SourceWorker<P>
    var failure: InputError?
}

/// One thread's parsing: its worker (aggregate, stats, samples) and framer. Used by one
/// thread at a time.
final class ParseLane<P: LineParser>: @unchecked Sendable {
    private var worker: SourceWorker<P>
    private var framer: LineFramer
    private var failure: InputError?

    init(worker: SourceWorker<P>, maxLineBytes: Int) {
        self.worker = worker
        framer = LineFramer(maxLineBytes: maxLineBytes)
    }

    /// Frames and parses the lines of a filled buffer.
    func parse(_ chunk: ChunkPool.Chunk) {
        for b in chunk.broken { worker.brokenLine(b.reason, offset: b.offset) }
        framer.restart(at: chunk.startOffset)
        framer.feed(UnsafeRawBufferPointer(rebasing: chunk.buffer[chunk.begin..<chunk.end]), into: &worker)
        if chunk.endOfInput { framer.finish(into: &worker) }
        if let e = chunk.error { failure = e }
    }

    func result() -> ParseResult<P> {
        worker.stats.lines = framer.lines
        return ParseResult(worker: worker, failure: failure)
    }
}

/// Buffers between the decoding thread and the parsing threads. Each filled buffer holds whole
/// lines (`ChunkAligner`), so any parser may take any buffer.
final class ChunkPool: @unchecked Sendable {
    /// One buffer and what the decoder left in it. Written by the decoder before it is queued
    /// as filled, read by one parser before it is queued as free: the queues order access.
    final class Chunk: @unchecked Sendable {
        let buffer: UnsafeMutableRawBufferPointer
        /// The lines: `buffer[begin..<end]`, starting at decoded offset `startOffset`.
        var begin = 0, end = 0
        var startOffset = 0
        /// Lines the aligner could not deliver (too long, cut by damage), to count as malformed.
        var broken: [(reason: MalformedReason, offset: Int)] = []
        /// The last buffer: its last line may lack a newline.
        var endOfInput = false
        var error: InputError?

        init(size: Int) { buffer = .allocate(byteCount: size, alignment: 64) }
        deinit { buffer.deallocate() }
    }

    let chunks: [Chunk]
    /// Guards `free` and `filled` (a pthread mutex, as `Locked`: the thread sanitizer sees
    /// the buffers' hand-over between threads through these queues).
    private let lock = NSLock()
    private var free: [Int]
    private let freeCount: DispatchSemaphore
    /// Filled slots in decoding order; -1 tells one parser to stop.
    private var filled: [Int] = []
    private let filledCount = DispatchSemaphore(value: 0)

    /// Buffers of `chunkSize` bytes plus `carryRoom` for the partial line carried in front.
    init(slots: Int, chunkSize: Int, carryRoom: Int) {
        chunks = (0..<max(slots, 2)).map { _ in Chunk(size: max(chunkSize, 1) + carryRoom) }
        free = Array(chunks.indices)
        freeCount = DispatchSemaphore(value: chunks.count)
    }

    /// A free slot. While none is free but some are filled (the decoder is ahead of the
    /// parsers), parses the oldest filled one with `help` and returns it, emptied.
    func takeFree(helping help: (Int) -> Void) -> Int {
        if freeCount.wait(timeout: .now()) == .timedOut {
            if let slot = takeFilledIfAny() {
                help(slot)
                return slot
            }
            freeCount.wait()
        }
        return lock.withLock { free.removeLast() }
    }

    /// A filled slot if one is queued now. Only for the decoder: it queues the stops (-1)
    /// after its last take, so what it takes is always a buffer.
    func takeFilledIfAny() -> Int? {
        guard filledCount.wait(timeout: .now()) == .success else { return nil }
        return lock.withLock { filled.removeFirst() }
    }

    func putFree(_ slot: Int) {
        lock.withLock { free.append(slot) }
        freeCount.signal()
    }

    /// Queues a filled slot, or -1 (stop) for one parser.
    func putFilled(_ slot: Int) {
        lock.withLock { filled.append(slot) }
        filledCount.signal()
    }

    /// The next filled slot, or nil when told to stop.
    func takeFilled() -> Int? {
        filledCount.wait()
        let slot = lock.withLock { filled.removeFirst() }
        return slot < 0 ? nil : slot
    }
}

/// Cuts the decoded stream into buffers of whole lines: the bytes after a buffer's last newline
/// are carried to the front of the next. Does for the stream what `LineFramer` does for a line:
/// a partial line longer than `maxLineBytes` is dropped up to its newline and reported once
/// (`line_too_long`), one cut by damage is reported as `truncated`.
struct ChunkAligner {
    let maxLineBytes: Int
    /// Decoded offset of the next byte to come.
    private(set) var offset = 0
    /// Bytes of the partial line to put in front of the next buffer.
    private(set) var carryCount = 0
    /// Inside a partial line known to be too long: drop bytes up to its newline.
    private(set) var discarding = false
    /// Decoded offset where the partial line starts.
    private(set) var pendingOffset = 0
    /// Lines reported broken (they count as lines read).
    private(set) var brokenLines = 0

    init(maxLineBytes: Int) { self.maxLineBytes = max(maxLineBytes, 1) }

    /// Before decoding into `chunk`: puts the carried partial line (`carry`, in the previous
    /// buffer) in front. Returns where new bytes go.
    mutating func begin(_ chunk: ChunkPool.Chunk, carry: UnsafeRawBufferPointer) -> Int {
        chunk.broken = []
        chunk.begin = 0
        chunk.endOfInput = false
        chunk.error = nil
        if carryCount > 0 { chunk.buffer.baseAddress!.copyMemory(from: carry.baseAddress!, byteCount: carryCount) }
        chunk.startOffset = carryCount > 0 ? pendingOffset : offset
        return carryCount
    }

    /// After `count` new bytes went into `chunk` behind the carried ones: sets the chunk's
    /// lines and keeps the new partial line (returned: where it sits in `chunk`).
    mutating func end(_ chunk: ChunkPool.Chunk, count: Int, gap: Bool) -> Range<Int> {
        let base = chunk.buffer.baseAddress!
        var start = carryCount  // first new byte
        let total = carryCount + count
        let newStart = offset
        offset += count
        if discarding {
            // Skip to the end of the over-long line.
            if let nl = memchr(base + start, 0x0A, total - start) {
                let at = base.distance(to: UnsafeMutableRawPointer(nl))
                report(.lineTooLong, chunk)
                discarding = false
                chunk.begin = at + 1
                chunk.startOffset = newStart + (at + 1 - start)
                start = at + 1
            } else {
                chunk.begin = total
                chunk.end = total
                if gap { report(.lineTooLong, chunk); discarding = false }
                return total..<total
            }
        }
        // Whole lines up to the last newline; the rest is the new partial line.
        var linesEnd = total
        while linesEnd > chunk.begin && base.load(fromByteOffset: linesEnd - 1, as: UInt8.self) != 0x0A { linesEnd -= 1 }
        chunk.end = linesEnd
        let tail = total - linesEnd
        if tail == 0 {
            carryCount = 0
        } else {
            pendingOffset = chunk.startOffset + (linesEnd - chunk.begin)
            if tail > maxLineBytes + 1 {
                discarding = true
                carryCount = 0
            } else {
                carryCount = tail
            }
        }
        if gap {
            if discarding { report(.lineTooLong, chunk) } else if carryCount > 0 { report(.truncated, chunk) }
            discarding = false
            carryCount = 0
        }
        return linesEnd..<(linesEnd + carryCount)
    }

    /// End of input: the carried partial line is the last line.
    mutating func finish(_ chunk: ChunkPool.Chunk) {
        chunk.begin = 0
        chunk.end = carryCount
        chunk.endOfInput = true
        if discarding { report(.lineTooLong, chunk) }
        discarding = false
        carryCount = 0
    }

    private mutating func report(_ reason: MalformedReason, _ chunk: ChunkPool.Chunk) {
        chunk.broken.append((reason, pendingOffset))
        brokenLines += 1
    }
}

/// The decoding side of one file: fills pool buffers until the decoder runs dry.
final class DecodeJob: @unchecked Sendable {
    let decoder: any ByteDecoder  // used only by `run`, on the decode queue
    let pool: ChunkPool
    /// Read by the parsing side only after `finished`.
    private(set) var aligner: ChunkAligner
    let parsers: Int
    let progress: ProgressCounter?
    let finished = DispatchSemaphore(value: 0)

    init(decoder: any ByteDecoder, pool: ChunkPool, aligner: ChunkAligner, parsers: Int, progress: ProgressCounter?) {
        self.decoder = decoder
        self.pool = pool
        self.aligner = aligner
        self.parsers = parsers
        self.progress = progress
    }

    /// Decodes to the end; `help` parses a filled slot (when no slot is free, and at the end
    /// until none is left).
    func run(helping help: (Int) -> Void) {
        var consumed = 0
        // The partial line: in the previous chunk's buffer (still ours until the next one is
        // set up: it is queued only after its carry has been copied out).
        var previous: Int? = nil
        var carry = 0..<0
        while true {
            let slot = pool.takeFree(helping: help)
            let chunk = pool.chunks[slot]
            let carryBytes = previous.map { UnsafeRawBufferPointer(rebasing: pool.chunks[$0].buffer[carry]) }
                ?? UnsafeRawBufferPointer(start: nil, count: 0)
            let at = aligner.begin(chunk, carry: carryBytes)
            if let previous { pool.putFilled(previous) }
            previous = nil
            var stop = false
            do {
                let (count, gap) = try decoder.read(into: UnsafeMutableRawBufferPointer(rebasing: chunk.buffer[at...]))
                if count == 0 && !gap {
                    aligner.finish(chunk)
                    stop = true
                } else {
                    carry = aligner.end(chunk, count: count, gap: gap)
                }
            } catch {
                chunk.begin = 0; chunk.end = 0
                chunk.endOfInput = true
                chunk.error = error
                stop = true
            }
            if let progress {
                let now = decoder.bytesConsumed
                progress.add(now - consumed)
                consumed = now
            }
            if stop {
                pool.putFilled(slot)
                break
            }
            previous = slot
        }
        while let slot = pool.takeFilledIfAny() {
            help(slot)
            pool.putFree(slot)
        }
        for _ in 0..<parsers { pool.putFilled(-1) }
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
