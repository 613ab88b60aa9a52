import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `aocpipe batch`: every file of every source once, files in parallel, then one report.
public struct BatchRunner: Sendable {
    public enum ProgressMode: String, Sendable, CaseIterable { case auto, always, never }

    public var config: PipelineConfig
    public var jobs: Int
    public var progress: ProgressMode
    public var processor: FileProcessor

    public init(config: PipelineConfig, jobs: Int? = nil, progress: ProgressMode = .auto) {
        self.config = config
        self.jobs = max(jobs ?? ProcessInfo.processInfo.activeProcessorCount, 1)
        self.progress = progress
        self.processor = FileProcessor(maxLineBytes: config.maxLineBytes)
        processor.latenessMillis = config.latenessMillis
    }

    public struct Outcome: Sendable {
        public var report: Report
        public var samples: [QuarantineSample]
        /// Files skipped because the checkpoint says they were already counted.
        public var resumedFiles: Int
        /// What the user should know about the input (one line each, naming the file).
        public var warnings: [String] = []
    }

    /// A file that could not be read: the run stops rather than report partial numbers.
    public struct Failure: Error, CustomStringConvertible {
        public var errors: [Error]
        public var description: String { errors.map { "\($0)" }.joined(separator: "\n") }
    }

    struct WorkItem: Sendable {
        var path: String
        var source: Int
        var size: Int
        /// Nil: the file decodes to nothing (empty, or damaged from its first byte).
        var fingerprint: Fingerprint?
    }

    /// What finished files add up to, shared by the workers. Each worker counts a file into its
    /// own partial aggregate (no lock while parsing) and merges it here once the file is done,
    /// so this state, with its list of finished files, is always a consistent checkpoint.
    struct Committed: @unchecked Sendable {  // used under `Locked` only
        var checkpoint: Checkpoint
        let checkpointer: Checkpointer
        var samples: [QuarantineSample] = []
        var errors: [Error] = []
        var resumed = 0
        var warnings: [String] = []
        /// Per source, the file each of `checkpoint.calls` came from (for messages).
        var callFiles: [[String]] = []
    }

    public func run(checkpointPath: String? = nil) throws -> Outcome {
        let resolved = try config.resolveFiles()
        var items: [WorkItem] = []
        // Each content once, as follow reads it: links, copies, a plain file and its .gz, and
        // a file that is the start of another are read under one name.
        var duplicates = Array(repeating: [DuplicateFile](), count: resolved.count)
        var identityWarnings: [String] = []
        for (i, entry) in resolved.enumerated() {
            let sorted = try DuplicateFiles.sort(entry.files)
            duplicates[i] = sorted.duplicates
            for d in sorted.diverging {
                identityWarnings.append("\(d.path): starts as \(d.other) does but differs from decoded byte \(d.at) on: both are counted")
            }
            for c in sorted.read {
                // stat(2), not FileManager's attributes: those look up the owner's user and
                // group names (nsswitch, /etc/passwd), a millisecond per run for nothing.
                var info = stat()
                let size = stat(c.path, &info) == 0 ? Int(info.st_size) : 0
                items.append(WorkItem(path: c.path, source: i, size: size, fingerprint: c.fingerprint))
            }
        }
        // Largest first, so the last file to finish is a small one.
        items.sort { $0.size != $1.size ? $0.size > $1.size : $0.path < $1.path }
        // One process per checkpoint, taken before it is read and held to the end of the run.
        let lock = try checkpointPath.map { try CheckpointLock(for: $0) }
        if let checkpointPath {  // a killed run's temp files
            AtomicFile.removeLeftovers(of: checkpointPath)
            AtomicFile.removeLeftovers(of: CheckpointJournal.path(for: checkpointPath))
        }
        defer { withExtendedLifetime(lock) {} }
        let start = try checkpointPath.flatMap { (p) throws(CheckpointError) in try Checkpoint.load(from: p, for: config) }
            ?? Checkpoint(config: config)
        // Files an earlier run read to their end, by content: skipped if unchanged, else read
        // from where it stopped. A file shorter than a fingerprint then is found by its start.
        let complete = start.files.filter(\.complete)
        let counted = Dictionary(complete.map { (FileKey(source: $0.source, fingerprint: $0.fingerprint), $0) }, uniquingKeysWith: { $1 })
        let short = complete.filter { $0.fingerprint.length < Fingerprint.span }
        @Sendable func earlier(_ source: Int, _ fingerprint: Fingerprint?) -> Checkpoint.FilePosition? {
            guard let fingerprint else { return nil }
            return counted[FileKey(source: source, fingerprint: fingerprint)]
                ?? short.last { $0.source == source && $0.fingerprint.isStart(of: fingerprint) }
        }

        let sources = config.sources
        let zone = config.zone
        let counter = ProgressCounter()
        let filesDone = ProgressCounter()
        let bar = ProgressBar.start(mode: progress, totalBytes: items.reduce(0) { $0 + $1.size },
                                    totalFiles: items.count, bytes: counter, files: filesDone)
        let next = Atomic<Int>(0)
        var initial = Committed(checkpoint: start, checkpointer: Checkpointer(path: checkpointPath, everyMillis: config.checkpointEveryMillis))
        initial.warnings = identityWarnings
        initial.callFiles = start.calls.map { Array(repeating: "a file counted before the resume", count: $0.count) }
        let committed = Locked(initial)
        let workers = min(jobs, max(items.count, 1))
        var perFile = self.processor  // a copy: a run does not change the runner
        // The clock as the run starts: every file is judged against the same bounds.
        perFile.eventTimes = config.eventTimes(nowMillis: wallClockMillis())
        // Cores left over when there are fewer files than jobs work inside each file. Two
        // threads per file at least (decoding and parsing overlap) unless told to use one.
        perFile.threads = jobs == 1 ? 1 : max(2, jobs / workers)
        let processor = perFile
        let work = items
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let k = next.add(1, ordering: .relaxed).oldValue
                guard k < work.count else { break }
                let item = work[k]
                defer { filesDone.add(1) }
                do {
                    let file = try InputFile(path: item.path)
                    let fingerprint = item.fingerprint
                    if fingerprint == nil && file.size == 0 {
                        // An empty file: nothing to count, but it was read.
                        committed.withLock { $0.checkpoint.sources[item.source].files += 1 }
                        continue
                    }
                    // A file with bytes that decode to nothing (a gzip file damaged or cut in
                    // its first member) is read all the same: its damage is reported.
                    let before = earlier(item.source, fingerprint)
                    if let before, before.isUnchanged(file) {
                        counter.add(item.size)
                        committed.withLock { $0.resumed += 1 }
                        continue
                    }
                    var result = try processor.process(path: item.path, source: sources[item.source],
                                                       reportZone: zone, progress: counter, from: before)
                    try committed.withLock { (state: inout Committed) throws in
                        state.checkpoint.aggregate.merge(result.aggregate.take())
                        if !result.calls.isEmpty {
                            state.checkpoint.calls[item.source].append(result.calls.compacted())
                            state.callFiles[item.source].append(item.path)
                        }
                        if result.stats.keylessCallLines > 0 && sources[item.source].calls.key != .line {
                            state.warnings.append("\(item.path): \(CallRules.keylessWarning)")
                        }
                        if let n = result.stats.malformedByReason[.badTime] {
                            state.warnings.append("\(item.path): \(n) record(s) \(config.eventTimesText): not counted (bad_time)")
                        }
                        state.checkpoint.sources[item.source] += result.stats
                        if let fingerprint {
                            var position = Checkpoint.FilePosition(
                                source: item.source, path: item.path, fingerprint: fingerprint,
                                decodedOffset: (before?.decodedOffset ?? 0) + result.stats.bytesDecoded, complete: true)
                            let status = file.status
                            position.device = status.device
                            position.inode = status.inode
                            position.resume = result.resume
                            position.resumeIsGzip = try Decoding.isGzip(file)
                            // A file read on from an earlier run's position has one entry: this.
                            if let before, let k = state.checkpoint.files.firstIndex(where: {
                                $0.complete && $0.source == item.source && $0.fingerprint == before.fingerprint
                            }) {
                                state.checkpoint.files[k] = position
                            } else {
                                state.checkpoint.files.append(position)
                            }
                        }
                        state.samples += result.samples
                        if state.checkpointer.isDue { try state.checkpointer.save(state.checkpoint) }
                    }
                } catch {
                    committed.withLock { $0.errors.append(error) }
                }
            }
        }
        bar?.stop()
        // Taken out of the mutex (not copied), so the report's latency join owns the
        // aggregate's buffers and sorts them in place.
        var state = committed.withLock { s in
            let taken = s
            s = Committed(checkpoint: Checkpoint(config: config), checkpointer: s.checkpointer)
            return taken
        }
        if !state.errors.isEmpty { throw Failure(errors: state.errors) }
        try state.checkpointer.save(state.checkpoint)

        var aggregate = state.checkpoint.aggregate
        state.checkpoint.aggregate = PartialAggregate(reportZone: zone)
        // Each source's files as one stream: a call whose lines are in two files is one call.
        for (k, segments) in state.checkpoint.calls.enumerated() where !segments.isEmpty {
            let (stream, overlapping) = CallSegment.joined(segments, lateness: config.latenessMillis, into: &aggregate)
            state.checkpoint.sources[k].lateDropped += stream.late
            for i in overlapping {
                state.warnings.append("\(state.callFiles[k][i]): its lines start more than the lateness before the source's earlier files end "
                    + "(a copy of another file of source \(config.sources[k].name)?): calls in both may count twice")
            }
        }
        for k in duplicates.indices { state.checkpoint.sources[k].duplicates = duplicates[k] }
        for (k, source) in config.sources.enumerated() {
            let sample = items.first { $0.source == k }?.path
            if let w = SkippedSource.warning(source, stats: state.checkpoint.sources[k], sample: sample) { state.warnings.append(w) }
        }
        let report = Report(config: config, aggregate: consume aggregate, sources: state.checkpoint.sources)
        state.samples.sort { ($0.file, $0.offset) < ($1.file, $1.offset) }
        return Outcome(report: report, samples: state.samples, resumedFiles: state.resumed, warnings: state.warnings.sorted())
    }
}

/// A file as a checkpoint knows it: which source, which content.
struct FileKey: Hashable {
    var source: Int
    var fingerprint: Fingerprint
}
