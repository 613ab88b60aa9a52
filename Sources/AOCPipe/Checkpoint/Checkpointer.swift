import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a run's checkpoint when it is due (every `checkpoint.every`) or asked, in batch and
/// follow alike, and remembers when it last succeeded. Not thread-safe: batch holds it under
/// its lock, follow on its queue.
public final class Checkpointer {
    /// nil: no checkpoint is kept (the schedule still runs, for what rides on it).
    public let path: String?
    private(set) var everyNanos: UInt64
    let crashPoint: CrashPoint?
    private var lastDue = DispatchTime.now()
    /// Checkpoints written (attempted) so far.
    private(set) var writes = 0
    /// When the checkpoint on disk was last known current: written, or found to hold the state
    /// as it is (`confirm`); nil: not yet. On the monotonic clock (for ages) and as Unix seconds
    /// (for the metric).
    private(set) var lastWritten: (uptime: DispatchTime, unixSeconds: Int)?

    public init(path: String?, everyMillis: Int, crashPoint: CrashPoint? = nil) {
        self.path = path
        everyNanos = UInt64(max(everyMillis, 1)) * 1_000_000
        self.crashPoint = crashPoint
    }

    /// How long until `isDue` (0: it is).
    public var nanosUntilDue: UInt64 {
        let since = DispatchTime.now().uptimeNanoseconds - lastDue.uptimeNanoseconds
        return since >= everyNanos ? 0 : everyNanos - since
    }

    /// A new interval (a reloaded pipeline).
    public func every(millis: Int) { everyNanos = UInt64(max(millis, 1)) * 1_000_000 }

    /// Whether `checkpoint.every` has passed since the last checkpoint was due.
    public var isDue: Bool { DispatchTime.now().uptimeNanoseconds - lastDue.uptimeNanoseconds >= everyNanos }

    /// Starts the next interval without writing (what the checkpoint must follow failed).
    public func postpone() { lastDue = DispatchTime.now() }

    /// What the last write left at `path` (device, inode, size): a file found there alike is
    /// still that checkpoint; one replaced or removed since (by hand) is written again.
    private var written: (device: UInt64, inode: UInt64, size: Int)?

    /// Whether the file at `path` is still the one this checkpointer last wrote.
    public var isStillOnDisk: Bool {
        guard let path, let written else { return false }
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
            && UInt64(st.st_dev) == written.device && UInt64(st.st_ino) == written.inode && Int(st.st_size) == written.size
    }

    /// The checkpoint on disk already holds the state as it is: nothing to write, and it is
    /// as current as a write would make it.
    public func confirm() {
        lastDue = DispatchTime.now()
        guard path != nil else { return }
        lastWritten = (DispatchTime.now(), Int(Date().timeIntervalSince1970))
    }

    /// Writes `checkpoint` atomically (when there is a path) and starts the next interval.
    public func save(_ checkpoint: Checkpoint) throws(AtomicFile.WriteError) {
        lastDue = DispatchTime.now()
        guard let path else { return }
        writes += 1
        let crash = crashPoint.flatMap { $0.write == writes ? $0.stage : nil }
        written = nil
        try checkpoint.save(to: path) { stage in if stage == crash { _exit(137) } }
        lastWritten = (DispatchTime.now(), Int(Date().timeIntervalSince1970))
        var st = stat()
        if stat(path, &st) == 0 { written = (UInt64(st.st_dev), UInt64(st.st_ino), Int(st.st_size)) }
    }
}

/// Crash tests: the process dies inside its `write`-th checkpoint write, before or after the
/// rename, as a power cut would. Handed in by the command line (`AOCPIPE_TEST_CRASH_IN_CHECKPOINT`).
public struct CrashPoint: Sendable {
    public var stage: AtomicFile.Stage
    public var write: Int

    /// `before-rename:N` or `after-rename:N`.
    public init?(spec: String) {
        let parts = spec.split(separator: ":")
        guard parts.count == 2, let n = Int(parts[1]), ["before-rename", "after-rename"].contains(parts[0]) else { return nil }
        stage = parts[0] == "after-rename" ? .afterRename : .beforeRename
        write = n
    }
}
