/// Work done with a source's line parser, whatever its concrete type (so that the hot path
/// is specialised for each format): the one place a format picks its parser is
/// `PipelineConfig.Source.withParser`.
public protocol ParserUser {
    associatedtype Result
    associatedtype Failure: Error
    func use<P: LineParser>(_ parser: P) throws(Failure) -> Result
}

extension PipelineConfig.Source {
    /// The parser this source's format calls for.
    public func withParser<U: ParserUser>(_ user: U) throws(U.Failure) -> U.Result {
        switch format {
        case .asteriskCDR: return try user.use(AsteriskCDRParser(rules: calls, sourceZone: zone))
        case .freezeJSONL: return try user.use(FreezeJSONParser())
        }
    }
}

/// The time (ms) of the first well-formed line among `bytes` (a file's first bytes, as its
/// fingerprint holds them), counted or not, nil if no whole line there is one: where the file
/// starts in its source's stream. A record outside `eventTimes` is not one.
func firstRecordMillis<P: LineParser>(in bytes: [UInt8], parser: P, eventTimes: ClosedRange<Int> = Int.min...Int.max) -> Int? {
    var parser = parser.anyRecord
    return bytes.withUnsafeBytes { all -> Int? in
        var start = 0
        while start < all.count {
            // Only whole lines: the last may be cut where the prefix ends.
            guard let end = all[start...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            var line = UnsafeRawBufferPointer(rebasing: all[start..<end])
            if line.last == UInt8(ascii: "\r") { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
            if case .event(let e) = parser.parse(line), eventTimes.contains(e.millis) { return e.millis }
            start = end + 1
        }
        return nil
    }
}
