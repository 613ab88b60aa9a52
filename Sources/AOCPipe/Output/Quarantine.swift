/// The quarantine file: one JSON object per malformed line kept as a sample
/// (`source`, `file`, `offset`, `reason`, `line`). It may hold personal data, so it is written
/// only to the file the operator names, never to the terminal.
public enum Quarantine {
    public static func render(_ samples: [QuarantineSample]) -> String {
        samples.map { s in
            "{\"source\":\(Text.jsonString(s.source)),\"file\":\(Text.jsonString(s.file)),\"offset\":\(s.offset),"
                + "\"reason\":\"\(s.reason.rawValue)\",\"line\":\(Text.jsonString(String(decoding: s.bytes, as: UTF8.self)))}\n"
        }.joined()
    }

    /// A line for the terminal: counts by reason only, no content.
    public static func summary(_ input: InputStats) -> String {
        let parts = MalformedReason.allCases.sorted().compactMap { r in input.malformedByReason[r].map { "\(r.rawValue) \($0)" } }
        return "\(input.malformed) malformed line(s): " + parts.joined(separator: ", ")
    }
}

extension Quarantine {
    /// Batch: the run's samples, replacing the file atomically.
    public static func write(_ samples: [QuarantineSample], to path: String) throws(AtomicFile.WriteError) {
        try OutputFile.write(render(samples), to: path, mode: AtomicFile.privateMode)
    }

    /// Follow: new samples appended as they are found (at each checkpoint).
    static func append(_ samples: [QuarantineSample], to path: String) throws {
        try Sink.append(render(samples), to: path, mode: AtomicFile.privateMode)
    }
}

extension PipelineConfig {
    /// The quarantine file: the one named on the command line, else `quarantine.path`; none
    /// when neither names one (it holds raw lines: never written where nobody asked).
    public func quarantineFile(override: String? = nil) -> String? {
        override ?? quarantinePath
    }
}
