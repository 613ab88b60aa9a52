/// What the follow loop needs of a followed file, whatever its format.
protocol Tail: AnyObject {
    var source: Int { get }
    var path: String { get set }
    var file: InputFile { get }
    var fingerprint: Fingerprint { get }
    var isGzip: Bool { get }
    /// Reads what can be decoded now, at most about `budget` decoded bytes; returns how many.
    func poll(buffer: UnsafeMutableRawBufferPointer, budget: Int) throws(InputError) -> Int
    /// Takes what was counted since the last call: aggregate, input stats, samples.
    func drain() -> FileResult
    /// How far it has been read, as a checkpoint records it.
    func position(complete: Bool) -> Checkpoint.FilePosition
    /// Decoded bytes read so far (plain: bytes of the file consumed).
    var bytesConsumed: Int { get }
}

/// A file being followed: its decoder, framer and parser persist between polls, and a partial
/// last line waits in the framer until its newline arrives.
///
/// Counting goes through the same `SourceWorker` as batch, into a partial aggregate that the
/// follow loop takes with `drain()` after every poll.
final class TailedFile<Parser: LineParser>: Tail {
    let source: Int
    var path: String
    let file: InputFile
    let fingerprint: Fingerprint
    let isGzip: Bool
    let decoder: any ByteDecoder
    var framer: LineFramer
    var worker: SourceWorker<Parser>
    /// Decoded bytes still to skip to reach the resume position (already counted before).
    var skip: Int
    var reportedLines = 0, reportedDecoded = 0, reportedRead = 0, reportedDamage = 0

    init(source: Int, sourceName: String, path: String, file: InputFile, fingerprint: Fingerprint, parser: Parser,
         reportZone: Zone, maxLineBytes: Int, from position: Checkpoint.FilePosition?) throws(InputError) {
        self.source = source
        self.path = path
        self.file = file
        self.fingerprint = fingerprint
        isGzip = try Decoding.isGzip(file)
        let committed = position?.decodedOffset ?? 0
        // A resume point is only valid for the encoding it was taken on (a plain file's
        // offset means nothing in its compressed copy): otherwise decode from the start.
        var resume = ResumePoint.start
        if let position, position.resumeIsGzip == isGzip, position.resume.decodedOffset <= committed {
            resume = position.resume
        }
        decoder = try Decoding.decoder(for: file, live: true, from: resume)
        skip = committed - resume.decodedOffset
        framer = LineFramer(maxLineBytes: maxLineBytes, startOffset: committed)
        worker = SourceWorker(parser: parser, aggregate: PartialAggregate(reportZone: reportZone, tracksMinutes: true),
                              source: sourceName, file: path)
        reportedDecoded = committed
        reportedRead = decoder.bytesConsumed
    }

    var bytesConsumed: Int { decoder.bytesConsumed }

    func poll(buffer: UnsafeMutableRawBufferPointer, budget: Int) throws(InputError) -> Int {
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
            framer.feed(chunk, into: &worker)
            if gap { framer.gap(into: &worker) }
        }
        return total
    }

    func drain() -> FileResult {
        var stats = worker.stats
        stats.lines = framer.lines - reportedLines
        stats.bytesDecoded = framer.offset - reportedDecoded
        stats.bytesRead = decoder.bytesConsumed - reportedRead
        stats.damage = Array(decoder.damage[reportedDamage...])
        reportedLines = framer.lines
        reportedDecoded = framer.offset
        reportedRead = decoder.bytesConsumed
        reportedDamage = decoder.damage.count
        let result = FileResult(aggregate: worker.aggregate, stats: stats, samples: worker.samples)
        worker.aggregate = PartialAggregate(reportZone: worker.aggregate.cursor.zone, tracksMinutes: true)
        worker.stats = InputStats()
        worker.samples = []
        return result
    }

    func position(complete: Bool) -> Checkpoint.FilePosition {
        let committed = framer.committedOffset  // while skipping, still the resume position
        let status = file.status
        var p = Checkpoint.FilePosition(source: source, path: path, fingerprint: fingerprint,
                                        decodedOffset: committed, complete: complete)
        p.device = status.device
        p.inode = status.inode
        p.resume = decoder.resumePoint(for: committed)
        p.resumeIsGzip = isGzip
        return p
    }
}
