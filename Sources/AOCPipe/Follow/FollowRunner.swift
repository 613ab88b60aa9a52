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
///
/// The parts: `FollowState` (reading and counting), `Checkpointer`, `Sink`s, the endpoint's
/// `MetricsStore` (served by a sibling, the HTTP server, with its own start and stop); this
/// type schedules them and keeps the lifecycle.
public final class FollowRunner: @unchecked Sendable {
    private(set) var settings: FollowSettings
    let logger: Logger
    let queue = DispatchQueue(label: "aocpipe.follow")
    let finished = DispatchSemaphore(value: 0)

    // Confined to `queue`.
    private(set) var lifecycle = Lifecycle.starting
    let state: FollowState
    let checkpointer: Checkpointer
    var sinks: [Sink]
    /// Reads the pipeline file again (with the command line's overrides), for SIGHUP.
    let reloader: (@Sendable () throws -> (PipelineConfig, FollowSettings))?
    /// Where the HTTP endpoint reads `/metrics` and `/healthz` from, when there is one.
    let metrics: MetricsStore?
    var signalSources: [DispatchSource] = []
    var timer: DispatchSource?
    var watcher: DirectoryWatcher?
    /// Inotify wake-ups closer than this to the last tick are coalesced into one.
    static let minTickGapNanos: UInt64 = 20_000_000
    var lastTick = DispatchTime(uptimeNanoseconds: 0)
    var tickPending = false
    var lastEmit = DispatchTime(uptimeNanoseconds: 0)
    var changedSinceEmit = true
    var emitScheduled = false
    var catchUpScheduled = false
    var saveScheduled = false
    var lastHealth = DispatchTime(uptimeNanoseconds: 0)
    /// Lines were counted since the last checkpoint was due.
    var unsaved = false
    /// Since the last tick: a full look is due (a directory changed, events were lost, the
    /// rescan interval), and the files inotify said were written.
    var rescanPending = true
    var written = Set<String>()
    let started = DispatchTime.now()
    let lock: CheckpointLock?

    /// Loads the checkpoint (refusing a bad one) and prepares the sinks; nothing runs yet.
    /// `reloader`: how SIGHUP gets the pipeline anew (none: SIGHUP is logged and ignored).
    public init(config: PipelineConfig, settings: FollowSettings, metrics: MetricsStore? = nil, logger: Logger,
                reloader: (@Sendable () throws -> (PipelineConfig, FollowSettings))? = nil) throws {
        self.settings = settings
        self.reloader = reloader
        self.logger = logger
        self.metrics = metrics
        let path = settings.checkpointPath
        // One process per checkpoint, held while this runner lives.
        lock = try path.map { try CheckpointLock(for: $0) }
        if let path {
            AtomicFile.removeLeftovers(of: path)
            AtomicFile.removeLeftovers(of: CheckpointJournal.path(for: path))
        }
        var checkpoint: Checkpoint
        if let path, let loaded = try Checkpoint.load(from: path, for: config) {
            checkpoint = loaded
            logger.info("resuming from checkpoint", metadata: ["path": "\(path)", "files": "\(loaded.files.count)"])
        } else {
            checkpoint = Checkpoint(config: config, tracksMinutes: true)
            if path == nil { logger.warning("no checkpoint.path: a restart will count everything again") }
        }
        state = FollowState(config: config, checkpoint: checkpoint, quarantinePath: settings.quarantinePath, logger: logger)
        checkpointer = Checkpointer(path: path, everyMillis: settings.checkpointEveryMillis, crashPoint: settings.crashPoint)
        checkpointer.journaled = true
        sinks = settings.sinks.map(Sink.init)
    }

    /// Runs until SIGTERM or SIGINT (or `stop()`), then drains, checkpoints, emits and returns.
    /// A second signal exits at once.
    public func run() {
        queue.sync { start() }
        finished.wait()
    }

    /// Stops as a signal would (tests, embedding).
    public func stop() { queue.async { self.shutdown() } }

    func start() {
        dispatchPrecondition(condition: .onQueue(queue))
        // Weak, as every block below: a block may still run after `run()` returned and the
        // runner is gone (seen: a scheduled emission firing after shutdown, under load).
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue) as! DispatchSource
            source.setEventHandler { [weak self] in sig == SIGHUP ? self?.reload() : self?.signalled() }
            source.resume()
            signalSources.append(source)
        }
        // Nothing is bound to SIGUSR1 or SIGUSR2: ignored, not a kill (their default).
        signal(SIGUSR1, SIG_IGN)
        signal(SIGUSR2, SIG_IGN)
        startPolling()
        logger.info("following", metadata: ["pipeline": "\(state.config.name)", "sources": "\(state.config.sources.count)"])
    }

    /// The inotify watcher and the timer of full looks: every `follow.rescan` while inotify
    /// says what changed, every `follow.poll` where it cannot.
    func startPolling() {
        timer?.cancel()
        watcher?.stop()
        watcher = DirectoryWatcher(patterns: state.config.sources.flatMap(\.paths),
                                   dropEvery: settings.inotifyDropEvery) { [weak self] changes in
            guard let self else { return }
            self.queue.async { self.noted(changes) }
        }
        let interval = max(watcher == nil ? settings.pollMillis : settings.rescanMillis, 1)
        if watcher == nil { logger.notice("inotify unavailable: polling every \(interval) ms") }
        let timer = DispatchSource.makeTimerSource(queue: queue) as! DispatchSource
        timer.setEventHandler { [weak self] in
            guard let self else { return }
            self.rescanPending = true
            self.tick()
        }
        timer.schedule(deadline: .now(), repeating: .milliseconds(interval), leeway: .milliseconds(max(interval / 10, 1)))
        timer.resume()
        self.timer = timer
    }

    /// What inotify said, kept for the next tick.
    func noted(_ changes: DirectoryWatcher.Changes) {
        rescanPending = rescanPending || changes.rescan
        written.formUnion(changes.written)
        wake()
    }

    /// SIGHUP: the pipeline file is read and checked again. A valid one takes effect at once
    /// (globs, sinks, intervals, retention and lateness, the quarantine file); one that does not
    /// load, or that changes what the counts mean (what the checkpoint's digest covers: the
    /// zone, the sources' names, formats, zones and call rules) or where the checkpoint is, is
    /// refused with the reason logged, and the running pipeline stays. The endpoint's address
    /// takes a restart.
    func reload() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard isLive else { return }
        guard let reloader else {
            logger.notice("SIGHUP: nothing to reload")
            return
        }
        let config: PipelineConfig, next: FollowSettings
        do {
            (config, next) = try reloader()
        } catch {
            logger.error("reload refused, the running pipeline stays", metadata: ["error": "\(error)"])
            return
        }
        guard config.name == state.config.name, Checkpoint.digest(of: config) == state.checkpoint.configDigest else {
            logger.error("reload refused, the running pipeline stays: it changes what the counts mean (the pipeline's name, zone, or its sources' names, formats, zones or call rules); that takes a restart with a new checkpoint")
            return
        }
        guard next.checkpointPath == settings.checkpointPath else {
            logger.error("reload refused, the running pipeline stays: checkpoint.path changed; that takes a restart")
            return
        }
        if next.listen != settings.listen {
            logger.warning("reload: the endpoint stays on \(settings.listen ?? "none") until a restart")
        }
        let pollChanged = next.pollMillis != settings.pollMillis || next.rescanMillis != settings.rescanMillis
            || config.sources.map(\.paths) != state.config.sources.map(\.paths)
        var kept = next
        kept.endpoint = settings.endpoint
        kept.crashPoint = settings.crashPoint
        kept.inotifyDropEvery = settings.inotifyDropEvery
        // A jsonl sink that stays remembers what it sent; new ones send everything once.
        let old = Dictionary(sinks.map { ($0.settings, $0) }, uniquingKeysWith: { a, _ in a })
        sinks = kept.sinks.map { old[$0] ?? Sink($0) }
        settings = kept
        state.reconfigure(config, quarantinePath: kept.quarantinePath)
        checkpointer.every(millis: kept.checkpointEveryMillis)
        if pollChanged { startPolling() }
        logger.notice("reloaded the pipeline file", metadata: ["sinks": "\(sinks.count)"])
        changedSinceEmit = true
        rescanPending = true
        tick()
    }

    func signalled() {
        if !isLive {
            logger.warning("second signal: exiting now")
            _exit(1)
        }
        logger.info("stopping: draining, checkpointing, emitting")
        shutdown()
    }

    /// Starting or running: not yet asked to stop.
    var isLive: Bool { lifecycle == .starting || lifecycle == .running }

    /// A change was seen: tick now, or soon if one just ran.
    func wake() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !tickPending, isLive else { return }
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
        guard isLive else { return }
        lastTick = DispatchTime.now()
        readNow()
        if changedSinceEmit { emitWhenDue() }
        if state.save(with: checkpointer) { unsaved = false }
        saveWhenDue()
        publishHealth()
        if lifecycle == .starting {
            lifecycle = .running
            logger.info("ready")
        }
        // Behind (a file had more than one read takes): read on at once, not at the next
        // poll, with emissions and checkpoints still at their intervals in between.
        if state.isBehind && !catchUpScheduled {
            catchUpScheduled = true
            queue.async { [weak self] in
                guard let self else { return }
                self.catchUpScheduled = false
                self.tick()
            }
        }
    }

    /// Reads what inotify said was written, or everything when a full look is due (or inotify
    /// is not there).
    func readNow() {
        let full = rescanPending || watcher == nil || state.tracker.shouldLookAgain
        let paths = written
        rescanPending = false
        written.removeAll()
        logger.trace("read", metadata: ["full": "\(full)", "written": "\(paths.sorted())"])
        if state.read(only: full ? nil : paths) {
            changedSinceEmit = true
            unsaved = true
        }
        // A full look may have moved files (a rename changes no count): the next checkpoint
        // compares, and writes or confirms.
        if full { unsaved = true }
    }

    /// A checkpoint for what was read since the last one, once `checkpoint.every` has passed,
    /// even if nothing wakes the loop before then (the next full look may be far off).
    func saveWhenDue() {
        guard unsaved, !saveScheduled, checkpointer.path != nil else { return }
        saveScheduled = true
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(checkpointer.nanosUntilDue))) { [weak self] in
            guard let self else { return }
            self.saveScheduled = false
            guard self.isLive else { return }
            if self.state.save(with: self.checkpointer) { self.unsaved = false }
            self.publishHealth(force: true)
            self.saveWhenDue()
        }
    }

    /// Emits now if `emit_every` has passed since the last emission, else once it has (even
    /// if nothing wakes the loop before then).
    func emitWhenDue() {
        let every = UInt64(settings.emitEveryMillis) * 1_000_000
        let since = DispatchTime.now().uptimeNanoseconds - lastEmit.uptimeNanoseconds
        if since >= every {
            emit()
        } else if !emitScheduled {
            emitScheduled = true
            queue.asyncAfter(deadline: .now() + .nanoseconds(Int(every - since))) { [weak self] in
                guard let self else { return }
                self.emitScheduled = false
                guard self.lifecycle == .running else { return }
                // What is there now, not what the last tick saw: an emission is at most
                // `emit_every` behind the log.
                self.readNow()
                if self.changedSinceEmit { self.emit() }
            }
        }
    }

    func emit() {
        let report = state.report
        for sink in sinks {
            do {
                try sink.emit(report)
            } catch where error.isBrokenPipe && sink.settings.target == .stdout {
                // Whoever read standard output went away: stop as a signal would, quietly.
                if isLive {
                    logger.notice("standard output was closed: stopping")
                    queue.async { [weak self] in self?.shutdown() }
                }
            } catch {
                logger.error("cannot emit (sent again at the next emission)", metadata: ["error": "\(error)"])
            }
        }
        if let metrics, let endpoint = settings.endpoint {
            metrics.publish(exposition: Renderer.render(report.shown(by: endpoint), as: .prometheus, windows: endpoint.windows))
        }
        lastEmit = DispatchTime.now()
        changedSinceEmit = false
    }

    /// The agent's gauges and `/healthz` (at most every 250 ms: they stat every followed file).
    func publishHealth(force: Bool = false) {
        guard let metrics else { return }
        let now = DispatchTime.now()
        guard force || now.uptimeNanoseconds - lastHealth.uptimeNanoseconds >= 250_000_000 else { return }
        lastHealth = now
        let health = state.health(checkpointer: checkpointer, since: started, upToDate: !unsaved)
        metrics.setAgent(health.agent, problems: health.problems)
    }

    func shutdown() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard isLive else { return }
        lifecycle = .draining
        _ = state.readAll()
        timer?.cancel()
        watcher?.stop()
        state.save(with: checkpointer, force: true)
        emit()
        lifecycle = .stopped
        logger.info("stopped")
        finished.signal()
    }
}
