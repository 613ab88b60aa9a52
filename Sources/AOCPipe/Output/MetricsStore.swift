import Synchronization

/// What the HTTP endpoint serves, as follow last left it: the exposition rendered once per
/// emission (never per scrape), and whether the agent is healthy. Written on follow's queue,
/// read by the server's threads.
public final class MetricsStore: Sendable {
    public struct Snapshot: Sendable {
        /// `/metrics`: the Prometheus text exposition of the windows (at the last emission),
        /// then the agent's own gauges (at the last tick).
        public var exposition: [UInt8] = []
        public var agent: [UInt8] = []
        /// `/healthz`: empty when healthy, else one reason per problem.
        public var problems: [String] = ["starting"]
    }

    private let state = Locked(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func publish(exposition: String) {
        let bytes = Array(exposition.utf8)
        state.withLock { $0.exposition = bytes }
    }

    func setAgent(_ status: AgentStatus, problems: [String]) {
        let bytes = Array(Exposition.agent(status).utf8)
        state.withLock {
            $0.agent = bytes
            $0.problems = problems
        }
    }
}
