/// How a source's CDR lines become hotline calls (docs/FORMATS.md, "Calls"): which lines are
/// the hotline's, what makes lines one call, and what makes a call answered.
public struct CallRules: Sendable, Equatable {
    /// What the lines of one call share.
    public enum Key: String, Sendable, CaseIterable {
        /// `linkedid` (21-column layout), else `uniqueid`, else each line is a call.
        case linkedid
        /// `uniqueid` (18 and 21 columns), else each line is a call.
        case uniqueid
        /// Each hotline line is a call (the count of a CDR viewer's `count(*)`).
        case line
    }

    /// What makes a call answered.
    public enum Answered: String, Sendable, CaseIterable {
        /// A line `ANSWERED` with a `dstchannel` that is an agent's: a person was bridged.
        case bridged
        /// A line `ANSWERED`, whoever answered (an IVR that answers before the queue counts).
        case disposition
    }

    /// `dst` values that make a line the hotline's.
    public var hotline: [String] = [Defaults.hotline]
    /// When not empty, `dcontext` must also be one of these.
    public var contexts: [String] = []
    /// When not empty, `channel` must also start with one of these (the trunks calls come in on).
    public var trunks: [String] = []
    /// `dstchannel` prefixes that are not agents (e.g. `Local/` where the dial plan reaches the
    /// queue through a Local channel): a line bridged to one of these does not answer the call.
    public var notAgents: [String] = []
    public var key: Key = .linkedid
    public var answered: Answered = .bridged

    public init(hotline: [String] = [Defaults.hotline], contexts: [String] = [], trunks: [String] = [],
                notAgents: [String] = [], key: Key = .linkedid, answered: Answered = .bridged) {
        self.hotline = hotline
        self.contexts = contexts
        self.trunks = trunks
        self.notAgents = notAgents
        self.key = key
        self.answered = answered
    }

    /// Said once per file whose hotline lines have neither `linkedid` nor `uniqueid`.
    public static let keylessWarning = "hotline CDR lines without uniqueid or linkedid (16 columns, or the id empty): each line counted as a call; set loguniqueid=yes (or newcdrcolumns=yes) in cdr.conf, or call_key: line to say this is meant"

    /// Everything that gives the counts their meaning, for the checkpoint's digest.
    var digestText: String {
        "hotline=\(hotline.joined(separator: "|")),contexts=\(contexts.joined(separator: "|")),"
            + "trunks=\(trunks.joined(separator: "|")),not_agents=\(notAgents.joined(separator: "|")),"
            + "call_key=\(key.rawValue),answered=\(answered.rawValue)"
    }

    /// One line for `validate`.
    public var summary: String {
        var s = "hotline \(hotline.joined(separator: ", "))"
        if !contexts.isEmpty { s += " in \(contexts.joined(separator: ", "))" }
        if !trunks.isEmpty { s += " from \(trunks.joined(separator: ", "))" }
        let per = key == .linkedid ? "linkedid (else uniqueid)" : key == .uniqueid ? "uniqueid" : "line"
        s += ", one call per \(per), answered when \(answered == .bridged ? "an agent was bridged" : "a line is ANSWERED")"
        if !notAgents.isEmpty { s += " (not agents: \(notAgents.joined(separator: ", ")))" }
        return s
    }
}
