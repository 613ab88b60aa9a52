/// What a parsed line means to the aggregator: one small value, no heap storage.
public struct Event: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case call, reported, freezeRequested, frozen, freezeFailed
    }

    public var kind: Kind
    /// Event time, milliseconds since the epoch (UTC).
    public var millis: Int
    /// For calls: the line answers the call (`CallRules.Answered`).
    public var answered: Bool
    /// For calls: the hash of the key the call's lines share (`CallKeyHash`); 0 when the line
    /// has none and is a call of its own.
    public var callKey: UInt64
    /// For freeze events: the case id.
    public var caseKey: CaseKey

    public init(kind: Kind, millis: Int, answered: Bool = false, callKey: UInt64 = 0, caseKey: CaseKey = CaseKey()) {
        self.kind = kind
        self.millis = millis
        self.answered = answered
        self.callKey = callKey
        self.caseKey = caseKey
    }
}

/// The outcome of parsing one line.
public enum ParseOutcome: Sendable, Equatable {
    case event(Event)
    /// A well-formed line that is not counted (a non-hotline call, an unknown event kind).
    case skipped
    case malformed(MalformedReason)
}

/// A line parser for one log format. Parsers are values: one per worker, no shared state.
public protocol LineParser: Sendable {
    /// Parses one line (without its line terminator) in place.
    mutating func parse(_ line: UnsafeRawBufferPointer) -> ParseOutcome
    /// A parser that gives every well-formed line as an event, counted or not (a CDR line to
    /// any number): for the time a file starts at, which orders a source's files.
    var anyRecord: Self { get }
}

extension LineParser {
    public var anyRecord: Self { self }
}
