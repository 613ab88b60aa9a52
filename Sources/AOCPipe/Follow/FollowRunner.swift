import Dispatch
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `aocpipe follow`: tails every source's files through rotation, keeps the windows current,
/// emits them every `follow.emit_every`, and checkpoints every `checkpoint.every`.
///
/// One serial queue does everything (discover, read, count, emit, checkpoint), so the state
/// and the file positions it carries always agree: between two ticks, every line before each
/// file's committed position is counted and none after it. That pair is the checkpoint, and a
/// restart from it, after a clean stop or a `kill -9`, counts each line exactly once. The
/// hotline writes thousands of lines a second; one core reads millions, so one queue is
/// plenty, and batch remains the way to reprocess archives on every core.
public final class FollowRunner: @unchecked Sendable {
    public struct Options: Sendable {
        public var checkpointPath: String?
        public var emitEveryMillis: Int?
        public var pollMillis: Int?
        /// Where the HTTP endpoint reads `/metrics` and `/healthz` from, when there is one.
        public var metrics: MetricsStore?
        /// Which windows `/metrics` shows: hours, days or both, ending within the horizon.
        public var metricsWindows: WindowSelection = .all
        public var metricsHorizonMillis = PipelineConfig.defaultHorizonMillis
        public init() {}
    }

    let config: PipelineConfig
    let options: Options
    let logger: Logger
    let queue = DispatchQueue(label: "aocpipe.follow")
    let finished = DispatchSemaphore(value: 0)

    // Confined to `queue`.
    var state: Checkpoint
    let tracker: FileTracker
    let sinks: [Sink]
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
    var timer: DispatchSource?
    var watcher: DirectoryWatcher?
    /// When the last tick ran: inotify wake-ups closer than `minTickGap` are coalesced.
    var lastTick = DispatchTime(uptimeNanoseconds: 0)
    var tickPending = false
    static let minTickGapNanos: UInt64 = 20_000_000
    var signalSources: [DispatchSource] = []
    var lastEmit = DispatchTime(uptimeNanoseconds: 0)
    let started = DispatchTime.now()
    /// Files that could not be read at the last poll (for `/healthz`).
    var readErrors: [String] = []
    var lastCheckpoint = DispatchTime.now()
    /// When a checkpoint was last written (nil: none yet), for `/healthz` and `/metrics`.
    var lastCheckpointWritten: DispatchTime?
    var lastCheckpointWrittenWallClock: Int?
    var changedSinceEmit = true
    var emitScheduled = false
    var stopping = false
    var failure: Error?
    /// Crash tests: `AOCPIPE_TEST_CRASH_IN_CHECKPOINT=before-rename:N` (or `after-rename:N`)
    /// makes the process die inside its N-th checkpoint write, as a power cut would.
    let crashPoint: (stage: AtomicFile.Stage, count: Int)? = {
        guard let spec = ProcessInfo.processInfo.environment["AOCPIPE_TEST_CRASH_IN_CHECKPOINT"] else { return nil }
        let parts = spec.split(separator: ":")
        guard parts.count == 2, let n = Int(parts[1]) else { return nil }
        return (parts[0] == "after-rename" ? .afterRename : .beforeRename, n)
    }()
    var checkpointsWritten = 0

    /// Loads the checkpoint (refusing a bad one) and prepares the sinks; nothing runs yet.
    public init(config: PipelineConfig, options: Options = Options(), logger: Logger) throws {
        self.config = config
        self.options = options
        self.logger = logger
        let path = options.checkpointPath ?? config.checkpointPath
        if let path { AtomicFile.removeLeftovers(of: path) }
        if let path, let loaded = try Checkpoint.load(from: path, for: config) {
            state = loaded
            logger.info("resuming from checkpoint", metadata: ["path": "\(path)", "files": "\(loaded.files.count)"])
        } else {
            state = Checkpoint(config: config, tracksMinutes: true)
            if path == nil { logger.warning("no checkpoint.path: a restart will count everything again") }
        }
        tracker = FileTracker(config: config, positions: state.files)
        sinks = Sink.from(config)
    }

    deinit { buffer.deallocate() }

    var checkpointPath: String? { options.checkpointPath ?? config.checkpointPath }

    /// Runs until SIGTERM or SIGINT (or `stop()`), then drains, checkpoints, emits and returns.
    /// A second signal exits at once.
    public func run() throws {
        queue.sync { start() }
        finished.wait()
        if let failure { throw failure }
    }

    /// Stops as a signal would (tests, embedding).
    public func stop() { queue.async { self.shutdown() } }

    func start() {
        dispatchPrecondition(condition: .onQueue(queue))
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue) as! DispatchSource
            // Weak, as every block below: a block may still run after `run()` returned and the
            // runner is gone (seen: a scheduled emission firing after shutdown, under load).
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if self.stopping {
                    self.logger.warning("second signal: exiting now")
                    _exit(1)
                }
                self.logger.info("stopping: draining, checkpointing, emitting")
                self.shutdown()
            }
            source.resume()
            signalSources.append(source)
        }
        let poll = options.pollMillis ?? config.pollMillis
        let t = DispatchSource.makeTimerSource(queue: queue) as! DispatchSource
        t.setEventHandler { [weak self] in self?.tick() }
        t.schedule(deadline: .now(), repeating: .milliseconds(max(poll, 1)), leeway: .milliseconds(max(poll / 10, 1)))
        t.resume()
        timer = t
        watcher = DirectoryWatcher(directories: DirectoryWatcher.directories(of: config.sources.flatMap(\.paths))) {
            [weak self] in
            guard let self else { return }
            self.queue.async { self.wake() }
        }
        if watcher == nil { logger.notice("inotify unavailable: polling every \(poll) ms") }
        logger.info("following", metadata: ["pipeline": "\(config.name)", "sources": "\(config.sources.count)"])
    }

    /// True after the first tick: signals are handled, every file found so far was read.
    var isReady = false

    /// A change was seen: tick now, or soon if one just ran.
    func wake() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !tickPending, !stopping else { return }
        let since = DispatchTime.now().uptimeNanoseconds - lastTick.uptimeNanoseconds
        if since >= Self.minTickGapNanos { tick(); return }
        tickPending = true
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(Self.minTickGapNanos - since))) { [weak self] in
            guard let self else { return }
            self.tickPending = false
            self.tick()
        }
    }

    /// One round: find files, read what is new, count it, and emit or checkpoint when due.
    func tick() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !stopping else { return }
        lastTick = DispatchTime.now()
        readAll()
        let now = DispatchTime.now().uptimeNanoseconds
        let emitEvery = UInt64(options.emitEveryMillis ?? config.emitEveryMillis) * 1_000_000
        if changedSinceEmit {
            let since = now - lastEmit.uptimeNanoseconds
            if since >= emitEvery {
                emit()
            } else if !emitScheduled {
                // Not due yet: emit when it is, even if nothing wakes the loop before then.
                emitScheduled = true
                queue.asyncAfter(deadline: .now() + .nanoseconds(Int(emitEvery - since))) { [weak self] in
                    guard let self else { return }
                    self.emitScheduled = false
                    if self.changedSinceEmit && !self.stopping { self.emit() }
                }
            }
        }
        if now - lastCheckpoint.uptimeNanoseconds >= UInt64(config.checkpointEveryMillis) * 1_000_000 { saveCheckpoint() }
        updateHealth()
        if !isReady {
            isReady = true
            logger.info("ready")
        }
    }

    func readAll() {
        readErrors.removeAll()
        for (source, stats) in tracker.discover() { state.sources[source] += stats }
        for tail in tracker.tails {
            if tracker.checkTruncation(tail) {
                logger.notice("truncated (copytruncate?): its copy will be read from where this stopped",
                              metadata: ["file": "\(tail.path)"])
                state.sources[tail.source].truncations += 1
                absorb(tail)
                tracker.release(tail, complete: false)
                continue
            }
            let read: Int
            do {
                read = try tail.poll(buffer: buffer, budget: 64 << 20)
            } catch {
                logger.error("cannot read", metadata: ["file": "\(tail.path)", "error": "\(error)"])
                readErrors.append("cannot read \(tail.path): \(error)")
                continue
            }
            absorb(tail)
            if read == 0 && tracker.isFinished(tail) {
                logger.info("done with file", metadata: ["file": "\(tail.path)"])
                tracker.release(tail, complete: true)
            }
        }
        for event in tracker.events { logger.info("\(event)") }
        tracker.events.removeAll()
    }

    /// Moves what a tail counted into the state, dropping records older than the retention.
    func absorb(_ tail: any Tail) {
        let result = tail.drain()
        for d in result.stats.damage { logger.warning("\(d)") }
        state.sources[tail.source] += result.stats
        guard result.stats.lines > 0 else { return }
        state.sources[tail.source].lateDropped += state.aggregate.merge(result.aggregate, retentionMillis: config.retentionMillis)
        changedSinceEmit = true
    }

    var report: Report {
        var total = InputStats()
        for s in state.sources { total += s }
        return Report(pipeline: config.name, zone: config.zone, aggregate: state.aggregate, input: total,
                      sources: zip(config.sources, state.sources).map { ($0.name, $1) },
                      slaMillis: config.slaMillis, latenessMillis: config.latenessMillis)
    }

    func emit() {
        let r = report
        for sink in sinks {
            do {
                try sink.emit(r)
            } catch {
                logger.error("cannot emit", metadata: ["error": "\(error)"])
            }
        }
        options.metrics?.publish(exposition: Renderer.render(r.within(horizonMillis: options.metricsHorizonMillis),
                                                             as: .prometheus, windows: options.metricsWindows))
        lastEmit = DispatchTime.now()
        changedSinceEmit = false
    }

    /// What `/healthz` reports: a source whose globs match no file, checkpoints that stopped.
    func updateHealth() {
        guard let store = options.metrics else { return }
        var problems: [String] = readErrors
        for (k, source) in config.sources.enumerated() where k < tracker.matchedFiles.count && tracker.matchedFiles[k] == 0 {
            problems.append("source \(source.name): no file matches \(source.paths.joined(separator: ", "))")
        }
        if checkpointPath != nil {
            // Due every `checkpoint.every`: three missed (and at least a second) is a problem.
            let limit = UInt64(max(3 * config.checkpointEveryMillis, 1_000)) * 1_000_000
            let since = DispatchTime.now().uptimeNanoseconds - (lastCheckpointWritten ?? started).uptimeNanoseconds
            if since > limit { problems.append("checkpoint not written for \(since / 1_000_000_000) s") }
        }
        var agent = "# HELP aocpipe_files_open Files being followed.\n# TYPE aocpipe_files_open gauge\n"
        agent += "aocpipe_files_open \(tracker.tails.count)\n"
        agent += "# HELP aocpipe_rotations_total Followed files seen under a new name (rotations), since start.\n"
        agent += "# TYPE aocpipe_rotations_total counter\naocpipe_rotations_total \(tracker.renames)\n"
        var lag = Array(repeating: 0, count: config.sources.count)
        for t in tracker.tails { lag[t.source] += max(0, t.file.status.size - t.bytesConsumed) }
        agent += "# HELP aocpipe_source_lag_bytes Bytes in followed files not read yet (newest byte seen less newest byte counted).\n"
        agent += "# TYPE aocpipe_source_lag_bytes gauge\n"
        for (k, source) in config.sources.enumerated() { agent += "aocpipe_source_lag_bytes{source=\(Exposition.quoted(source.name))} \(lag[k])\n" }
        if let written = lastCheckpointWrittenWallClock {
            agent += "# HELP aocpipe_last_checkpoint_timestamp_seconds When the checkpoint was last written.\n"
            agent += "# TYPE aocpipe_last_checkpoint_timestamp_seconds gauge\n"
            agent += "aocpipe_last_checkpoint_timestamp_seconds \(written)\n"
        }
        store.setAgent(agent, problems: problems)
    }

    func saveCheckpoint() {
        lastCheckpoint = DispatchTime.now()
        guard let path = checkpointPath else { return }
        state.files = tracker.positions
        checkpointsWritten += 1
        let crash = crashPoint.flatMap { $0.count == checkpointsWritten ? $0.stage : nil }
        do {
            try state.save(to: path) { stage in if stage == crash { _exit(137) } }
            lastCheckpointWritten = DispatchTime.now()
            lastCheckpointWrittenWallClock = Int(Date().timeIntervalSince1970)
        } catch {
            logger.error("cannot write the checkpoint", metadata: ["error": "\(error)"])
        }
    }

    func shutdown() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !stopping else { return }
        readAll()
        stopping = true
        timer?.cancel()
        watcher?.stop()
        saveCheckpoint()
        emit()
        logger.info("stopped")
        finished.signal()
    }
}
