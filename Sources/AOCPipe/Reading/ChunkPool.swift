import Dispatch
import Foundation

/// What one parsing thread made of its share of a file.
struct ParseResult<P: LineParser>: Sendable {
    var worker: SourceWorker<P>
    var failure: InputError?
}

/// The calls of a file read in parallel: each buffer's call lines, made calls of in the
/// buffers' order by one `CallSegment`, so the file's calls are exactly those of one reader
/// going through it, whatever the buffer size and thread count. The calls are counted into
/// `counts`, added to the parsers' counts at the end.
///
/// A thread that hands in a buffer makes calls of every buffer ready in order, unless another
/// thread is already doing so: then it goes back to parsing, and that thread takes this
/// buffer too. So no parser waits for another's calls.
final class CallSequencer: @unchecked Sendable {
    /// Guards `waiting` and `next`.
    private let lock = NSLock()
    private var waiting: [Int: [CallObservation]] = [:]
    private var next = 0
    /// Held by the thread making calls; guards `calls` and `counts`.
    private let replaying = NSLock()
    private var calls: CallSegment
    private var counts: PartialAggregate

    init(lateness: Int, reportZone: Zone) {
        calls = CallSegment(lateness: lateness)
        counts = PartialAggregate(reportZone: reportZone)
    }

    /// Buffer `sequence`'s call lines (buffers are numbered from 0 in stream order).
    func add(_ lines: [CallObservation], sequence: Int) {
        lock.withLock { waiting[sequence] = lines }
        while replaying.try() {
            while let ready = takeNext() { calls.observe(ready, into: &counts) }
            replaying.unlock()
            // A buffer handed in after the last look, while this thread still held the lock,
            // found it taken: look again, so that it is not left waiting.
            guard lock.withLock({ waiting[next] != nil }) else { return }
        }
    }

    private func takeNext() -> [CallObservation]? {
        lock.withLock {
            guard let ready = waiting.removeValue(forKey: next) else { return nil }
            next += 1
            return ready
        }
    }

    /// The file's calls and their counts, once every buffer was added (and `add` returned).
    func result() -> (calls: CallSegment, counts: PartialAggregate) {
        replaying.withLock { (calls, counts) }
    }
}

/// One thread's parsing: its worker (aggregate, stats, samples) and framer. Used by one
/// thread at a time.
final class ParseLane<P: LineParser>: @unchecked Sendable {
    private var worker: SourceWorker<P>
    private var framer: LineFramer
    private var failure: InputError?
    private let sequencer: CallSequencer

    init(worker: SourceWorker<P>, maxLineBytes: Int, sequencer: CallSequencer) {
        self.worker = worker
        self.sequencer = sequencer
        framer = LineFramer(maxLineBytes: maxLineBytes)
    }

    /// Frames and parses the lines of a filled buffer.
    /// Broken lines come in stream order with the others (a line ending where the buffer's
    /// lines begin, before them; one cut by a gap, after them), so the samples a lane keeps
    /// are the first of its buffers, as one framer over the stream would keep them.
    func parse(_ chunk: ChunkPool.Chunk) {
        for b in chunk.broken where b.offset < chunk.startOffset { worker.brokenLine(b.reason, offset: b.offset) }
        framer.restart(at: chunk.startOffset)
        framer.feed(UnsafeRawBufferPointer(rebasing: chunk.buffer[chunk.begin..<chunk.end]), into: &worker)
        if chunk.endOfInput { framer.finish(into: &worker) }
        for b in chunk.broken where b.offset >= chunk.startOffset { worker.brokenLine(b.reason, offset: b.offset) }
        if let e = chunk.error { failure = e }
        sequencer.add(worker.takeCalls(), sequence: chunk.sequence)
    }

    func result() -> ParseResult<P> {
        worker.stats.lines = framer.lines
        return ParseResult(worker: worker, failure: failure)
    }
}

/// Buffers between the decoding thread and the parsing threads. Each filled buffer holds whole
/// lines (`LineFramer.cut`), so any parser may take any buffer.
final class ChunkPool: @unchecked Sendable {
    /// One buffer and what the decoder left in it. Written by the decoder before it is queued
    /// as filled, read by one parser before it is queued as free: the queues order access.
    final class Chunk: @unchecked Sendable {
        let buffer: UnsafeMutableRawBufferPointer
        /// The lines: `buffer[begin..<end]`, starting at decoded offset `startOffset`.
        var begin = 0, end = 0
        var startOffset = 0
        /// The buffer's place in the stream: 0, 1, 2, ...
        var sequence = 0
        /// Lines the cutter could not deliver (too long, cut by damage), to count as malformed.
        var broken: [(reason: MalformedReason, offset: Int)] = []
        /// The last buffer: its last line may lack a newline.
        var endOfInput = false
        var error: InputError?

        init(size: Int) { buffer = .allocate(byteCount: size, alignment: 64) }
        deinit { buffer.deallocate() }

        /// Empty, before the decoder fills it again.
        func reset() {
            begin = 0; end = 0; startOffset = 0
            broken = []
            endOfInput = false
            error = nil
        }
    }

    /// Collects the lines the cutter reports broken, for the buffer they belong to.
    struct BrokenLines: LineSink {
        var lines: [(reason: MalformedReason, offset: Int)] = []
        mutating func line(_ bytes: UnsafeRawBufferPointer, offset: Int) {}
        mutating func brokenLine(_ reason: MalformedReason, offset: Int) { lines.append((reason, offset)) }
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

/// The decoding side of one file: fills pool buffers with whole lines until the decoder runs
/// dry, cutting the stream with a `LineFramer` (the same partial-line rules as every framer).
final class DecodeJob: @unchecked Sendable {
    let decoder: any ByteDecoder  // used only by `run`, on the decode queue
    let pool: ChunkPool
    /// Cuts the stream; used only by `run`. Its counts are read after `finished`.
    private var cutter: LineFramer
    let parsers: Int
    let progress: ProgressCounter?
    let finished = DispatchSemaphore(value: 0)

    init(decoder: any ByteDecoder, pool: ChunkPool, maxLineBytes: Int, parsers: Int, progress: ProgressCounter?) {
        self.decoder = decoder
        self.pool = pool
        cutter = LineFramer(maxLineBytes: maxLineBytes)
        self.parsers = parsers
        self.progress = progress
    }

    /// Lines the cutter reported broken (too long, cut by damage); read after `finished`.
    var brokenLines: Int { cutter.lines }
    /// Decoded bytes of the whole file; read after `finished`.
    var decodedBytes: Int { cutter.offset }

    /// Decodes to the end; `help` parses a filled slot (when no slot is free, and at the end
    /// until none is left).
    func run(helping help: (Int) -> Void) {
        var consumed = 0
        var sequence = 0
        while true {
            let slot = pool.takeFree(helping: help)
            let chunk = pool.chunks[slot]
            chunk.reset()
            chunk.sequence = sequence
            sequence += 1
            var broken = ChunkPool.BrokenLines()
            let (held, startOffset) = cutter.prepend(into: chunk.buffer)
            var stop = false
            do {
                let (count, gap) = try decoder.read(into: UnsafeMutableRawBufferPointer(rebasing: chunk.buffer[held...]))
                if count == 0 && !gap {
                    // The end: the held partial line is the last line.
                    cutter.finishCut(into: &broken)
                    chunk.end = held
                    chunk.startOffset = startOffset
                    chunk.endOfInput = true
                    stop = true
                } else {
                    let cut = cutter.cut(chunk.buffer, count: count, gap: gap, into: &broken)
                    chunk.begin = cut.lines.lowerBound
                    chunk.end = cut.lines.upperBound
                    chunk.startOffset = cut.startOffset
                }
            } catch {
                chunk.endOfInput = true
                chunk.error = error
                stop = true
            }
            chunk.broken = broken.lines
            if let progress {
                let now = decoder.bytesConsumed
                progress.add(now - consumed)
                consumed = now
            }
            pool.putFilled(slot)
            if stop { break }
        }
        while let slot = pool.takeFilledIfAny() {
            help(slot)
            pool.putFree(slot)
        }
        for _ in 0..<parsers { pool.putFilled(-1) }
        finished.signal()
    }
}
