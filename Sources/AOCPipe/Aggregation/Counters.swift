/// The counted metrics of a window, freeze latency aside (docs/FORMATS.md, "Metrics"): the one
/// list from which counting, merging, the checkpoint codec, every renderer's names and the
/// exposition's help texts derive. In the order every output lists them.
public enum Metric: Int, CaseIterable, Sendable {
    case calls, callsAnswered, callsUnanswered, casesReported, freezeRequests, accountsFrozen, freezesFailed

    /// The name in JSON, CSV and metric names.
    public var name: String {
        switch self {
        case .calls: return "calls"
        case .callsAnswered: return "calls_answered"
        case .callsUnanswered: return "calls_unanswered"
        case .casesReported: return "cases_reported"
        case .freezeRequests: return "freeze_requests"
        case .accountsFrozen: return "accounts_frozen"
        case .freezesFailed: return "freezes_failed"
        }
    }

    /// What it counts, for the exposition's `# HELP`.
    public var help: String {
        switch self {
        case .calls: return "Hotline calls (distinct call keys among the hotline's CDR lines) in the window of their earliest start."
        case .callsAnswered: return "Hotline calls an agent answered (a line ANSWERED to an agent's channel) in the window."
        case .callsUnanswered: return "Hotline calls no agent answered in the window."
        case .casesReported: return "Cases reported (freeze log `reported` events) in the window."
        case .freezeRequests: return "Freezes requested (`freeze_requested` events) in the window."
        case .accountsFrozen: return "Accounts frozen (`frozen` events) in the window."
        case .freezesFailed: return "Freezes failed (`freeze_failed` events) in the window."
        }
    }

    /// The event kind each record of which it counts; nil for the calls split by answer.
    public var kind: Event.Kind? {
        switch self {
        case .calls: return .call
        case .casesReported: return .reported
        case .freezeRequests: return .freezeRequested
        case .accountsFrozen: return .frozen
        case .freezesFailed: return .freezeFailed
        case .callsAnswered, .callsUnanswered: return nil
        }
    }
}

/// The counts of one window: one per event kind, and the answered calls (unanswered calls are
/// the rest, never stored). One vector, so merging is one addition.
public struct Counters: Sendable, Equatable {
    /// Lanes 0-4: records of each `Event.Kind` (its raw value); lane 5: answered calls.
    var lanes = SIMD8<Int>()
    static let answeredLane = 5

    public init() {}

    /// Constant lanes (a switch, not `lanes[kind.rawValue]`): an element at a constant index is
    /// one add in memory, one at a variable index moves the whole vector through the stack.
    @inline(__always)
    mutating func count(_ event: Event) {
        switch event.kind {
        case .call:
            lanes[0] &+= 1
            if event.answered { lanes[Self.answeredLane] &+= 1 }
        case .reported: lanes[1] &+= 1
        case .freezeRequested: lanes[2] &+= 1
        case .frozen: lanes[3] &+= 1
        case .freezeFailed: lanes[4] &+= 1
        }
    }

    public subscript(metric: Metric) -> Int {
        if let kind = metric.kind { return lanes[Int(kind.rawValue)] }
        return metric == .callsAnswered ? lanes[Self.answeredLane] : lanes[0] - lanes[Self.answeredLane]
    }

    /// Sets a stored metric (the codec); a derived one (`callsUnanswered`) has nothing to set.
    mutating func set(_ metric: Metric, _ value: Int) {
        if let kind = metric.kind { lanes[Int(kind.rawValue)] = value } else if metric == .callsAnswered { lanes[Self.answeredLane] = value }
    }

    public var calls: Int { self[.calls] }
    public var callsAnswered: Int { self[.callsAnswered] }
    public var callsUnanswered: Int { self[.callsUnanswered] }
    public var casesReported: Int { self[.casesReported] }
    public var freezeRequests: Int { self[.freezeRequests] }
    public var accountsFrozen: Int { self[.accountsFrozen] }
    public var freezesFailed: Int { self[.freezesFailed] }

    /// Records counted (each event once, whatever its kind).
    var records: Int { lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] }

    public static func += (a: inout Counters, b: Counters) { a.lanes &+= b.lanes }

    /// Metric names as they appear in JSON and CSV, with their values, in a fixed order.
    public var named: [(String, Int)] { Metric.allCases.map { ($0.name, self[$0]) } }
}
