/// A malformed line kept for the quarantine file: where it was and why, with its first bytes.
public struct QuarantineSample: Sendable {
    public var source: String
    public var file: String
    /// Offset of the line in the decoded stream of the file.
    public var offset: Int
    public var reason: MalformedReason
    public var bytes: [UInt8]
}

/// Parses the lines of one file into a worker's aggregate, counts what it read, and keeps the
/// first malformed lines as samples: the framer's `LineSink` in batch and follow alike. The
/// hotline lines that carry a call key wait in `calls`, in stream order, for the source's
/// `CallSegment` to make calls of them (whoever reads the stream in order does that).
struct SourceWorker<Parser: LineParser>: LineSink {
    var parser: Parser
    var aggregate: PartialAggregate
    var calls: [CallObservation] = []
    var stats = InputStats()
    var samples: [QuarantineSample] = []
    /// Samples kept from this file so far (follow drains `samples`; the cap is per file).
    var samplesKept = 0
    /// The record times counted (`PipelineConfig.eventTimes`); a record outside is `bad_time`.
    /// Follow moves its end with the clock before each read.
    var eventTimes: ClosedRange<Int> = Int.min...Int.max
    let source: String
    let file: String
    let maxSamples: Int

    init(parser: Parser, aggregate: PartialAggregate, source: String, file: String, maxSamples: Int = Defaults.samplesPerFile) {
        self.parser = parser
        self.aggregate = aggregate
        self.source = source
        self.file = file
        self.maxSamples = maxSamples
    }

    @inline(__always)
    mutating func line(_ bytes: UnsafeRawBufferPointer, offset: Int) {
        var bytes = bytes
        // A UTF-8 byte order mark (as some editors and Windows tools write) opens the file, not
        // its first line.
        if offset == 0 && bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            bytes = UnsafeRawBufferPointer(rebasing: bytes[3...])
        }
        if bytes.isEmpty { return }  // a blank line is no record
        switch parser.parse(bytes) {
        case .event(let event):
            guard eventTimes.contains(event.millis) else {
                malformed(.badTime, offset: offset, bytes: bytes)
                return
            }
            stats.records += 1
            guard event.kind == .call else {
                aggregate.add(event)
                return
            }
            stats.callLines += 1
            if event.callKey == 0 {
                stats.keylessCallLines += 1
                aggregate.add(event)
            } else {
                calls.append(CallObservation(event))
            }
        case .skipped:
            stats.skipped += 1
        case .malformed(let reason):
            malformed(reason, offset: offset, bytes: bytes)
        }
    }

    /// Takes `buffer`'s storage (emptied) for the next call lines, if it is larger than the
    /// worker's own (empty) one: follow lends one buffer to each file it reads in turn, so a
    /// read of 64 MiB does not grow a new array from nothing, page by page.
    mutating func lend(_ buffer: inout [CallObservation]) {
        guard calls.isEmpty, buffer.capacity > calls.capacity else { return }
        buffer.removeAll(keepingCapacity: true)
        swap(&calls, &buffer)
    }

    /// The call lines read since the last take.
    mutating func takeCalls() -> [CallObservation] {
        let taken = calls
        calls = []
        return taken
    }

    mutating func brokenLine(_ reason: MalformedReason, offset: Int) {
        malformed(reason, offset: offset, bytes: UnsafeRawBufferPointer(start: nil, count: 0))
    }

    mutating func malformed(_ reason: MalformedReason, offset: Int, bytes: UnsafeRawBufferPointer) {
        stats.malformedByReason[reason, default: 0] += 1
        if samplesKept < maxSamples {
            samplesKept += 1
            samples.append(QuarantineSample(source: source, file: file, offset: offset, reason: reason,
                                            bytes: Array(bytes.prefix(512))))
        }
    }
}
