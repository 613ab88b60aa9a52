/// Follow's settings, resolved once at start from the pipeline file and the command line.
public struct FollowSettings: Sendable {
    public var checkpointPath: String?
    public var checkpointEveryMillis: Int
    public var emitEveryMillis: Int
    public var pollMillis: Int
    public var rescanMillis: Int
    /// Tests: inotify batches lost as in an overflow, one in so many (`DirectoryWatcher`).
    public var inotifyDropEvery: Int?
    /// Where emissions are written (never empty: a table on stdout by default).
    public var sinks: [SinkSettings]
    /// What the HTTP endpoint serves (windows, horizon), when there is one.
    public var endpoint: SinkSettings?
    /// Where malformed lines' samples go; none kept when nil.
    public var quarantinePath: String?
    /// Crash tests only (see `CrashPoint`).
    public var crashPoint: CrashPoint?

    /// `checkpointPath`, `emitEveryMillis`, `listen`: the command line's, over the pipeline's.
    public init(config: PipelineConfig, checkpointPath: String? = nil, emitEveryMillis: Int? = nil,
                listen: String? = nil, crashPoint: CrashPoint? = nil) {
        self.checkpointPath = checkpointPath ?? config.checkpointPath
        checkpointEveryMillis = config.checkpointEveryMillis
        self.emitEveryMillis = emitEveryMillis ?? config.emitEveryMillis
        pollMillis = config.pollMillis
        rescanMillis = config.rescanMillis
        sinks = config.followSinks
        if let listen {
            var endpoint = config.httpSink ?? SinkSettings(target: .http(listen: listen), format: .prometheus)
            endpoint.target = .http(listen: listen)
            self.endpoint = endpoint
        } else {
            endpoint = config.httpSink
        }
        quarantinePath = config.quarantineFile()
        self.crashPoint = crashPoint
    }

    /// Where the endpoint listens, when there is one.
    public var listen: String? {
        if case .http(let address) = endpoint?.target { return address }
        return nil
    }
}

/// Where a follower is in its life: `starting` until its first tick has read every file found,
/// `running`, `draining` after a stop was asked (reading what is left, checkpointing, a last
/// emission), then `stopped`.
public enum Lifecycle: Sendable, Equatable {
    case starting, running, draining, stopped
}
