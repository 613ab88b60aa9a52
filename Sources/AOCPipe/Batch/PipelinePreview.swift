/// `aocpipe validate`: the pipeline as understood, and what the first lines of each source
/// become. Shows parsed values only, never raw lines (they hold caller numbers).
public struct PipelinePreview {
    public var config: PipelineConfig
    public var lines: Int

    public init(config: PipelineConfig, lines: Int = 5) {
        self.config = config
        self.lines = lines
    }

    /// Keeps what the first lines became.
    struct Collect<P: LineParser>: LineSink {
        var parser: P
        var outcomes: [(offset: Int, outcome: ParseOutcome)] = []
        let limit: Int
        let eventTimes: ClosedRange<Int>
        mutating func line(_ bytes: UnsafeRawBufferPointer, offset: Int) {
            guard outcomes.count < limit && !bytes.isEmpty else { return }
            var outcome = parser.parse(bytes)
            if case .event(let e) = outcome, !eventTimes.contains(e.millis) { outcome = .malformed(.badTime) }
            outcomes.append((offset, outcome))
        }
        mutating func brokenLine(_ reason: MalformedReason, offset: Int) {
            if outcomes.count < limit { outcomes.append((offset, .malformed(reason))) }
        }
    }

    /// Reads a file's first lines with its source's parser.
    struct FirstLines: ParserUser {
        let path: String
        let lines: Int
        let maxLineBytes: Int
        let eventTimes: ClosedRange<Int>

        func use<P: LineParser>(_ parser: P) throws(InputError) -> [(offset: Int, outcome: ParseOutcome)] {
            let reader = try FileReader(file: try InputFile(path: path), sink: Collect(parser: parser, limit: lines, eventTimes: eventTimes),
                                        maxLineBytes: maxLineBytes)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
            defer { buffer.deallocate() }
            while reader.sink.outcomes.count < lines {
                if try reader.read(into: buffer, budget: 1) == 0 {
                    reader.finish()
                    break
                }
            }
            return reader.sink.outcomes
        }
    }

    public func render() throws -> String {
        let resolved = try config.resolveFiles()
        var s = "\(config.file): OK\n"
        let now = wallClockMillis() / 1000
        s += "pipeline \(config.name), report zone \(config.zone.identifier) (UTC\(Zone.formatOffset(config.zone.offset(utc: now))) now), "
            + "SLA \(config.slaMillis / 60_000) min\n"
        for w in config.warnings { s += "warning: \(w)\n" }
        s += "records counted: from \(config.notBeforeText) to \(Duration.text(config.maxFutureMillis)) after the clock; "
            + "gaps of up to \(Duration.text(config.fillGapsMillis)) between days with records shown as zero days\n"
        for (source, files) in resolved {
            s += "\nsource \(source.name) (\(source.format.rawValue), zone \(source.zone.identifier) UTC\(Zone.formatOffset(source.zone.offset(utc: now)))"
            if source.format == .asteriskCDR { s += ", \(source.calls.summary)" }
            s += "): \(files.count) file(s)\n"
            for f in files.prefix(3) { s += "  \(f)\n" }
            if files.count > 3 { s += "  ... and \(files.count - 3) more\n" }
            guard let first = files.first else { continue }
            s += "  first lines of \(first):\n"
            for (offset, outcome) in try preview(first, source: source) {
                s += "    @\(offset): " + describe(outcome) + "\n"
            }
        }
        return s
    }

    func preview(_ path: String, source: PipelineConfig.Source) throws -> [(offset: Int, outcome: ParseOutcome)] {
        try source.withParser(FirstLines(path: path, lines: lines, maxLineBytes: config.maxLineBytes,
                                         eventTimes: config.eventTimes(nowMillis: wallClockMillis())))
    }

    func describe(_ outcome: ParseOutcome) -> String {
        switch outcome {
        case .skipped: return "skipped (not counted: another number or event)"
        case .malformed(.badTime): return "malformed: bad_time (\(config.eventTimesText))"
        case .malformed(let r): return "malformed: \(r.rawValue)"
        case .event(let e):
            let second = CivilTime.floorDiv(e.millis, 1000)
            let at = Text.localTimestamp(second, offset: config.zone.offset(utc: second))
            switch e.kind {
            case .call:
                // The key's hash, shortened: which lines make one call, without the id.
                let call = e.callKey == 0 ? "a call of its own (no call key)" : "call #" + String(String(e.callKey, radix: 16).prefix(6))
                return "hotline line of \(call), starting \(at), \(e.answered ? "answered by an agent" : "not answered by an agent")"
            case .reported: return "case reported at \(at)"
            case .freezeRequested: return "freeze requested at \(at)"
            case .frozen: return "account frozen at \(at)"
            case .freezeFailed: return "freeze failed at \(at)"
            }
        }
    }
}
