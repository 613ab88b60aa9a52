/// Why a line was not counted: the framer's own reasons (`line_too_long`, `truncated`) and
/// the parsers'. Raw values are the keys of `input.malformed_by_reason`.
public enum MalformedReason: String, Sendable, CaseIterable, Comparable {
    case lineTooLong = "line_too_long"
    case truncated = "truncated"
    case columnCount = "column_count"
    case badQuoting = "bad_quoting"
    case badTimestamp = "bad_timestamp"
    /// A well-formed time outside the times counted (`PipelineConfig.eventTimes`).
    case badTime = "bad_time"
    case badJSON = "bad_json"
    case missingField = "missing_field"
    case unknownEvent = "unknown_event"

    public static func < (a: MalformedReason, b: MalformedReason) -> Bool { a.rawValue < b.rawValue }

    var index: Int { MalformedReason.allCases.firstIndex(of: self)! }
}
