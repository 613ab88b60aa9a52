import Dispatch
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What follow has counted and how far each file was read (the checkpoint's content), kept
/// current by reading every followed file. Confined to the follow loop's queue: reading,
/// counting and checkpointing happen in one place, so the counts and the positions agree.
final class FollowState {
    private(set) var config: PipelineConfig
    let logger: Logger
    var checkpoint: Checkpoint
    let tracker: FileTracker
    private(set) var quarantinePath: String?
    /// What the last checkpoint written held of the files and the sources' stats (nil: none
    /// written by this process yet).
    private var saved: (files: [Checkpoint.FilePosition], sources: [InputStats])?
    /// Followed paths that are symlinks (found at each full read).
    private var linked = Set<String>()
    /// Sources whose last read left a file with more than one read takes (read on at once).
    private var behindSources = Set<Int>()
    /// More to read at once: a file had more than one read takes, or matched files wait to be
    /// adopted (the open-files limit) until idle ones are parked.
    var isBehind: Bool { !behindSources.isEmpty || tracker.shouldLookAgain }
    /// Malformed lines sampled and not yet written to the quarantine file.
    private(set) var pendingSamples: [QuarantineSample] = []
    /// Files that could not be read at the last read (for `/healthz`).
    private(set) var readErrors: [String: String] = [:]
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
    /// The storage of the last read's call lines, lent to the next file read (one for all).
    private var spareCalls: [CallObservation] = []
    /// Decoded bytes one file may add in one read, so that one busy file cannot hold up the rest.
    static let budgetPerRead = 64 << 20

    init(config: PipelineConfig, checkpoint: Checkpoint, quarantinePath: String?, logger: Logger) {
        self.config = config
        self.quarantinePath = quarantinePath
        self.logger = logger
        self.checkpoint = checkpoint
        self.checkpoint.aggregate.joinChanges = []  // for the checkpoint's journal
        tracker = FileTracker(config: config, positions: checkpoint.files)
        // Followed files may take the descriptors left after the endpoint's connections, the
        // checkpoint, sinks and the runtime's own (48).
        if let limit = openFilesLimit() {
            tracker.openLimit = max(16, limit - Defaults.endpointConnections(openFiles: limit) - 48)
        }
    }

    deinit { buffer.deallocate() }

    /// A reloaded pipeline whose counts mean the same (`FollowRunner.reload` checks): new
    /// globs, retention, lateness and limits from the next read on; files open stay open.
    func reconfigure(_ config: PipelineConfig, quarantinePath: String?) {
        self.config = config
        self.quarantinePath = quarantinePath
        tracker.reconfigure(config)
    }

    /// Finds files (new, renamed, truncated) and reads what is new in each. Returns whether
    /// any line was counted.
    func readAll() -> Bool { read(only: nil) }

    /// Reads what is new. `only`: the files inotify said were written (and those of a source
    /// still behind), without looking at the globs or any other file; a written path that a
    /// glob matches but no followed file has (a file not seen yet) makes it a full read.
    /// nil: a full read (every glob, every file).
    func read(only written: Set<String>?) -> Bool {
        var changed = false
        var polled = written
        if let written {
            let followed = Set(tracker.tails.map(\.path))
            let unknown = written.subtracting(followed).subtracting(tracker.unpark(written: written.subtracting(followed)))
            if unknown.contains(where: { path in config.sources.contains { $0.paths.contains { Glob.matches($0, path) } } }) {
                polled = nil
            }
        }
        let behindBefore = behindSources
        if polled == nil {
            for (source, stats) in tracker.discover() { checkpoint.sources[source] += stats }
            let followed = Set(tracker.tails.map(\.path))
            readErrors = readErrors.filter { followed.contains($0.key) }
            // A file matched through a symlink is written where inotify may not watch: it is
            // looked at on every read.
            linked = Set(tracker.tails.map(\.path).filter { path in
                var st = stat()
                return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
            })
        }
        // A source's files are in stream order: while one has more to read than a read takes,
        // the newer ones wait, so the source's calls see its lines in the order written.
        var behind = Set<Int>()
        let eventTimes = config.eventTimes(nowMillis: wallClockMillis())
        for tail in tracker.tails {
            if behind.contains(tail.source) { continue }
            if let polled, !polled.contains(tail.path) && !behindBefore.contains(tail.source) && !linked.contains(tail.path) { continue }
            if tracker.checkTruncation(tail) {
                logger.notice("truncated (copytruncate?): its copy will be read from where this stopped",
                              metadata: ["file": "\(tail.path)"])
                checkpoint.sources[tail.source].truncations += 1
                changed = absorb(tail) || changed
                tracker.release(tail, complete: false)
                continue
            }
            let read: Int
            do {
                tail.lendCallBuffer(&spareCalls)
                read = try tail.poll(buffer: buffer, budget: Self.budgetPerRead, eventTimes: eventTimes)
            } catch {
                logger.error("cannot read", metadata: ["file": "\(tail.path)", "error": "\(error)"])
                readErrors[tail.path] = "cannot read \(tail.path): \(error)"
                continue
            }
            readErrors[tail.path] = nil
            changed = absorb(tail) || changed
            if read >= Self.budgetPerRead { behind.insert(tail.source) }
            if read == 0 && tracker.isFinished(tail) {
                logger.info("done with file", metadata: ["file": "\(tail.path)"])
                tracker.release(tail, complete: true)
            } else if read == 0 && tracker.isIdle(tail, idleMillis: config.idleTimeoutMillis, nowMillis: wallClockMillis()) {
                tracker.park(tail)
            }
        }
        for event in tracker.events { logger.info("\(event)") }
        tracker.events.removeAll()
        behindSources = behind
        return changed
    }

    /// Moves what a tail counted into the state, dropping records older than the retention.
    /// Its calls continue the source's: a call whose lines came in two polls is one call.
    private func absorb(_ tail: any Tail) -> Bool {
        var result = tail.drain()
        for d in result.stats.damage { logger.warning("\(d)") }
        warnIfKeyless(result.stats, tail)
        if result.stats.malformedByReason[.badTime] != nil, warnedBadTime.insert(tail.path).inserted {
            logger.warning("records \(config.eventTimesText) are not counted (bad_time)", metadata: ["file": "\(tail.path)"])
        }
        let source = tail.source
        checkpoint.sources[source] += result.stats
        // Warned once, when a thousand lines in a row of a source counted nothing.
        if checkpoint.sources[source].skipped >= 1000, warnedSkipped.insert(source).inserted,
           let w = SkippedSource.warning(config.sources[source], stats: checkpoint.sources[source], sample: tail.path) {
            logger.warning("\(w)")
        }
        if quarantinePath != nil { pendingSamples += result.samples }  // else counted, not kept
        guard result.stats.lines > 0 else { return false }
        checkpoint.sources[source].lateDropped += checkpoint.aggregate.merge(result.aggregate, retentionMillis: config.retentionMillis)
        var lines = result.callLines
        result.callLines = []  // `lines` holds the only reference: counted in place, then kept for the next read
        countCalls(&lines, source: source)
        if lines.capacity > spareCalls.capacity {
            lines.removeAll(keepingCapacity: true)
            spareCalls = lines
        }
        return true
    }

    /// Makes calls of a source's call lines, in the order read: one stream per source, so a
    /// call whose lines came in two polls, two files or on both sides of a restart is one call.
    private func countCalls(_ lines: inout [CallObservation], source: Int) {
        guard !lines.isEmpty else { return }
        // Older than the retention: dropped, as the windows they would count in are (in
        // place, and only when there are any).
        let newest = checkpoint.aggregate.maxMillis, cutoff = newest &- config.retentionMillis
        var expired = 0
        if newest != Int.min, lines.contains(where: { $0.millis < cutoff }) {
            let before = lines.count
            lines.removeAll { $0.millis < cutoff }
            expired = before - lines.count
        }
        var stream = checkpoint.calls[source].first ?? CallSegment(lateness: config.latenessMillis)
        checkpoint.calls[source] = []  // held once while it changes
        stream.observe(lines, into: &checkpoint.aggregate)
        checkpoint.aggregate.flushMinute()
        stream.forgetHead()
        checkpoint.sources[source].lateDropped += expired + stream.late
        stream.late = 0
        checkpoint.calls[source] = [stream]
    }

    /// Files whose hotline lines have no call key, or that hold records dated outside the
    /// times counted, were warned about (once per file).
    private var warnedKeyless = Set<String>(), warnedBadTime = Set<String>(), warnedSkipped = Set<Int>()

    private func warnIfKeyless(_ stats: InputStats, _ tail: any Tail) {
        guard stats.keylessCallLines > 0, config.sources[tail.source].calls.key != .line,
              warnedKeyless.insert(tail.path).inserted else { return }
        logger.warning("\(CallRules.keylessWarning)", metadata: ["file": "\(tail.path)"])
    }

    var report: Report { Report(config: config, aggregate: checkpoint.aggregate, sources: checkpoint.sources) }

    /// Writes the samples found since the last call to the quarantine file, then the
    /// checkpoint with every file's position now (when it is due, or `force`d). When the
    /// samples cannot be written, neither is the checkpoint: it would pass lines whose samples
    /// are only in memory (they are tried again next time, and `/healthz` shows the stale
    /// checkpoint).
    /// Returns whether the checkpoint on disk now holds this state (written, or confirmed).
    @discardableResult
    func save(with checkpointer: Checkpointer, force: Bool = false) -> Bool {
        guard force || checkpointer.isDue else { return false }
        if let quarantinePath, !pendingSamples.isEmpty {
            do {
                try Quarantine.append(pendingSamples, to: quarantinePath)
                pendingSamples.removeAll()
            } catch {
                logger.error("cannot write the quarantine file; the checkpoint waits for it", metadata: ["error": "\(error)"])
                checkpointer.postpone()
                return false
            }
        }
        if checkpointer.path != nil { checkpoint.files = tracker.positions }
        // Nothing read, no file moved: the checkpoint on disk is this state already (idle
        // costs no write). What was read shows in the sources' stats, what moved in positions.
        if let saved, saved.files == checkpoint.files, saved.sources == checkpoint.sources, checkpointer.isStillOnDisk {
            checkpointer.confirm()
            return true
        }
        do {
            try checkpointer.save(checkpoint)
            saved = (checkpoint.files, checkpoint.sources)
            checkpoint.aggregate.joinChanges = []
            return true
        } catch {
            logger.error("cannot write the checkpoint", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// What `/healthz` reports (one line per problem) and the agent's own gauges.
    /// `upToDate`: nothing was read since the checkpoint on disk was last written or
    /// confirmed, so it is current now (an idle follower writes none, and is not stale).
    func health(checkpointer: Checkpointer, since started: DispatchTime, upToDate: Bool) -> (problems: [String], agent: AgentStatus) {
        var problems = readErrors.keys.sorted().map { readErrors[$0]! }
        for (k, source) in config.sources.enumerated() where k < tracker.matchedFiles.count && tracker.matchedFiles[k] == 0 {
            problems.append("source \(source.name): no file matches \(source.paths.joined(separator: ", "))")
        }
        let current = upToDate && checkpointer.lastWritten != nil
        if checkpointer.path != nil && !current {
            // Due every `checkpoint.every`: three missed (and at least a second) is a problem.
            let limit = UInt64(max(3 * config.checkpointEveryMillis, 1_000)) * 1_000_000
            let since = DispatchTime.now().uptimeNanoseconds - (checkpointer.lastWritten?.uptime ?? started).uptimeNanoseconds
            if since > limit { problems.append("checkpoint not written for \(since / 1_000_000_000) s") }
        }
        var lag = Array(repeating: 0, count: config.sources.count)
        for t in tracker.tails { lag[t.source] += max(0, t.file.status.size - t.bytesConsumed) }
        let agent = AgentStatus(filesOpen: tracker.tails.count, rotations: tracker.renames,
                                lagBytes: zip(config.sources, lag).map { ($0.name, $1) },
                                lastCheckpoint: current ? Int(wallClockMillis() / 1000) : checkpointer.lastWritten?.unixSeconds,
                                checkpointBytes: checkpointer.path == nil ? nil : checkpointer.bytesWritten)
        return (problems, agent)
    }
}
