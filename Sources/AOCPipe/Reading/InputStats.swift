/// The input side of a run: what was read and what could not be used.
public struct InputStats: Sendable, Equatable {
    public var files = 0
    public var bytesRead = 0
    public var bytesDecoded = 0
    public var lines = 0
    public var records = 0
    /// Hotline CDR lines among the records (they make `calls`, several lines a call).
    public var callLines = 0
    /// Hotline CDR lines without a call key (16 columns, or an empty id): a call each.
    public var keylessCallLines = 0
    public var skipped = 0
    public var malformedByReason: [MalformedReason: Int] = [:]
    public var lateDropped = 0
    /// Follow: files found shorter than what was read, or rewritten from the start.
    public var truncations = 0
    /// `frozen` events with no `reported` event for their case, or one after them.
    public var unmatched = 0
    public var damage: [DecodeDamage] = []
    /// Batch: matched files not read because their content is read under another name. Found
    /// anew by each run, so not kept in checkpoints.
    public var duplicates: [DuplicateFile] = []

    public init() {}

    public var malformed: Int { malformedByReason.values.reduce(0, +) }

    public static func += (a: inout InputStats, b: InputStats) {
        a.files += b.files
        a.bytesRead += b.bytesRead
        a.bytesDecoded += b.bytesDecoded
        a.lines += b.lines
        a.records += b.records
        a.callLines += b.callLines
        a.keylessCallLines += b.keylessCallLines
        a.skipped += b.skipped
        for (k, v) in b.malformedByReason { a.malformedByReason[k, default: 0] += v }
        a.lateDropped += b.lateDropped
        a.truncations += b.truncations
        a.unmatched += b.unmatched
        a.damage += b.damage
        a.duplicates += b.duplicates
    }
}
