/// The counted metrics of one window (FORMATS.md section 3), freeze latency aside.
public struct Counters: Sendable, Equatable {
    public var calls = 0
    public var callsAnswered = 0
    public var callsUnanswered = 0
    public var casesReported = 0
    public var freezeRequests = 0
    public var accountsFrozen = 0
    public var freezesFailed = 0

    public init() {}

    @inline(__always)
    mutating func count(_ event: Event) {
        switch event.kind {
        case .call:
            calls += 1
            if event.answered { callsAnswered += 1 } else { callsUnanswered += 1 }
        case .reported: casesReported += 1
        case .freezeRequested: freezeRequests += 1
        case .frozen: accountsFrozen += 1
        case .freezeFailed: freezesFailed += 1
        }
    }

    public static func += (a: inout Counters, b: Counters) {
        a.calls += b.calls
        a.callsAnswered += b.callsAnswered
        a.callsUnanswered += b.callsUnanswered
        a.casesReported += b.casesReported
        a.freezeRequests += b.freezeRequests
        a.accountsFrozen += b.accountsFrozen
        a.freezesFailed += b.freezesFailed
    }

    /// Metric names as they appear in JSON and CSV, with their values, in a fixed order.
    public var named: [(String, Int)] {
        [("calls", calls), ("calls_answered", callsAnswered), ("calls_unanswered", callsUnanswered),
         ("cases_reported", casesReported), ("freeze_requests", freezeRequests),
         ("accounts_frozen", accountsFrozen), ("freezes_failed", freezesFailed)]
    }
}
