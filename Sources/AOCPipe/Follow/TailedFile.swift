/// What the follow loop needs of a followed file, whatever its format.
protocol Tail: AnyObject {
    var source: Int { get }
    var path: String { get set }
    var file: InputFile { get }
    var fingerprint: Fingerprint { get }
    var isGzip: Bool { get }
    /// Time (ms) of the file's first record, where it starts in its source's stream (nil: unknown).
    var firstRecordMillis: Int? { get }
    /// Reads what can be decoded now, at most about `budget` decoded bytes; returns how many.
    /// Records outside `eventTimes` (the bounds at the clock's time now) are `bad_time`.
    func poll(buffer: UnsafeMutableRawBufferPointer, budget: Int, eventTimes: ClosedRange<Int>) throws(InputError) -> Int
    /// Takes what was counted since the last call: aggregate, input stats, samples.
    func drain() -> FileResult
    /// Uses `buffer`'s storage for the call lines of the next poll (`SourceWorker.lend`).
    func lendCallBuffer(_ buffer: inout [CallObservation])
    /// How far it has been read, as a checkpoint records it.
    func position(complete: Bool) -> Checkpoint.FilePosition
    /// Bytes of the file consumed so far (compressed, for gzip).
    var bytesConsumed: Int { get }
}

/// A file being followed: a live `FileReader` (the same decoder, framer and parsing worker as
/// batch's), which persists between polls, plus what identifies the file through rotation.
final class TailedFile<Parser: LineParser>: Tail {
    let source: Int
    var path: String
    let fingerprint: Fingerprint
    let isGzip: Bool
    let firstRecordMillis: Int?
    let reader: FileReader<SourceWorker<Parser>>

    var file: InputFile { reader.file }

    /// Opens `file` to go on from `position` (a checkpoint's), or from its start.
    init(source: Int, sourceName: String, path: String, file: InputFile, fingerprint: Fingerprint, parser: Parser,
         reportZone: Zone, maxLineBytes: Int, eventTimes: ClosedRange<Int>, from position: Checkpoint.FilePosition?) throws(InputError) {
        self.source = source
        self.path = path
        self.fingerprint = fingerprint
        isGzip = try Decoding.isGzip(file)
        firstRecordMillis = AOCPipe.firstRecordMillis(in: fingerprint.firstBytes(of: file), parser: parser, eventTimes: eventTimes)
        let committed = position?.decodedOffset ?? 0
        // A resume point is only valid for the encoding it was taken on (a plain file's
        // offset means nothing in its compressed copy): otherwise decode from the start.
        var resume = ResumePoint.start
        if let position, position.resumeIsGzip == isGzip, position.resume.decodedOffset <= committed {
            resume = position.resume
        }
        let worker = SourceWorker(parser: parser, aggregate: PartialAggregate(reportZone: reportZone, tracksMinutes: true),
                                  source: sourceName, file: path)
        reader = try FileReader(file: file, sink: worker, maxLineBytes: maxLineBytes, live: true,
                                resume: resume, committed: committed)
    }

    var bytesConsumed: Int { reader.bytesConsumed }

    func poll(buffer: UnsafeMutableRawBufferPointer, budget: Int, eventTimes: ClosedRange<Int>) throws(InputError) -> Int {
        reader.sink.eventTimes = eventTimes
        return try reader.read(into: buffer, budget: budget)
    }

    func drain() -> FileResult { reader.drain() }

    func lendCallBuffer(_ buffer: inout [CallObservation]) { reader.sink.lend(&buffer) }

    func position(complete: Bool) -> Checkpoint.FilePosition {
        let committed = reader.committed
        let status = file.status
        var p = Checkpoint.FilePosition(source: source, path: path, fingerprint: fingerprint,
                                        decodedOffset: committed.offset, complete: complete)
        p.device = status.device
        p.inode = status.inode
        p.resume = committed.resume
        p.resumeIsGzip = isGzip
        return p
    }
}

/// Opens a followed file with its source's parser (the one place follow picks a parser).
struct TailOpener: ParserUser {
    let source: Int
    let settings: PipelineConfig.Source
    let path: String
    let file: InputFile
    let fingerprint: Fingerprint
    let reportZone: Zone
    let maxLineBytes: Int
    let eventTimes: ClosedRange<Int>
    let position: Checkpoint.FilePosition?

    func use<P: LineParser>(_ parser: P) throws(InputError) -> any Tail {
        try TailedFile(source: source, sourceName: settings.name, path: path, file: file, fingerprint: fingerprint,
                       parser: parser, reportZone: reportZone, maxLineBytes: maxLineBytes, eventTimes: eventTimes, from: position)
    }
}
