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
    /// Follow: a checkpoint is a record appended to the journal beside a base written now and
    /// then (`CheckpointJournal`), not the whole state each time.
    public var journaled = false
    /// What is on disk, to diff the next record against (nil: the next write is a base).
    private var baseline: JournalBaseline?
    private var baseBytes = 0, journalBytes = 0
    /// Bytes written to the base and the journal since start (`aocpipe_checkpoint_written_bytes_total`).
    private(set) var bytesWritten = 0
    /// The journal is written anew with a base once it holds more than the base, and this.
    var journalAllowance = 1 << 20

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

    /// Whether the file at `path` (and its journal) is still what this checkpointer last wrote.
    public var isStillOnDisk: Bool {
        guard let path, isBaseOnDisk(path) else { return false }
        return !journaled || isJournalOnDisk(path)
    }

    /// Whether the journal beside `path` is as long as this checkpointer left it (one removed,
    /// cut or replaced by hand would lose the records appended to it: then a base is written).
    private func isJournalOnDisk(_ path: String) -> Bool {
        var st = stat()
        return stat(CheckpointJournal.path(for: path), &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && Int(st.st_size) == journalBytes
    }

    /// Whether the base at `path` is still the one last written (a journal appended to another
    /// base, or to none, would be lost or misapplied: then a base is written).
    private func isBaseOnDisk(_ path: String) -> Bool {
        guard let written else { return false }
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

    /// Writes `checkpoint` (when there is a path) and starts the next interval: journaled, a
    /// record of what changed since the last write, or a new base when the journal has grown
    /// past the base (or nothing was written yet, or the last write failed); else the whole
    /// state, atomically. A journaled caller clears `aggregate.joinChanges` after a success.
    public func save(_ checkpoint: Checkpoint) throws(AtomicFile.WriteError) {
        lastDue = DispatchTime.now()
        guard let path else { return }
        writes += 1
        let crash = crashPoint.flatMap { $0.write == writes ? $0.stage : nil }
        if journaled, let baseline, checkpoint.aggregate.joinChanges != nil,
           journalBytes < max(baseBytes, journalAllowance), isBaseOnDisk(path), isJournalOnDisk(path) {
            try append(CheckpointJournal.frame(checkpoint.journalRecord(since: baseline)), to: path, crash: crash)
        } else {
            written = nil
            baseline = nil
            let bytes = checkpoint.encoded()
            try AtomicFile.write(bytes, to: path, mode: AtomicFile.privateMode) { stage in if stage == crash { _exit(137) } }
            bytesWritten += bytes.count
            baseBytes = bytes.count
            var st = stat()
            if stat(path, &st) == 0 { written = (UInt64(st.st_dev), UInt64(st.st_ino), Int(st.st_size)) }
            // The journal of the base replaced no longer applies: a new one (follow), or none.
            let journal = CheckpointJournal.path(for: path)
            if journaled {
                let header = CheckpointJournal.header(forBasePayload: bytes[24...])
                try AtomicFile.write(header, to: journal, mode: AtomicFile.privateMode)
                bytesWritten += header.count
                journalBytes = header.count
            } else if unlink(journal) != 0 && errno != ENOENT {
                throw AtomicFile.WriteError(path: journal, errno: errno)
            }
        }
        if journaled { baseline = JournalBaseline(checkpoint) }
        lastWritten = (DispatchTime.now(), Int(Date().timeIntervalSince1970))
    }

    /// Appends one record to the journal and syncs it. A crash test dies with half the record
    /// written (`beforeRename`) or just after it (`afterRename`). On failure, what was written
    /// of the record is cut off again, and the next write is a base.
    private func append(_ record: [UInt8], to path: String, crash: AtomicFile.Stage?) throws(AtomicFile.WriteError) {
        let journal = CheckpointJournal.path(for: path)
        baseline = nil  // until the record is on disk
        let fd = open(journal, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFile.WriteError(path: journal, errno: errno) }
        defer { close(fd) }
        if crash == .beforeRename {
            _ = writeAll(fd, Array(record.prefix(record.count / 2)))
            _exit(137)
        }
        if let failure = writeAll(fd, record) ?? (fdatasync(fd) == 0 ? nil : errno) {
            _ = ftruncate(fd, off_t(journalBytes))
            throw AtomicFile.WriteError(path: journal, errno: failure)
        }
        journalBytes += record.count
        bytesWritten += record.count
        if crash == .afterRename { _exit(137) }
    }
}

/// Crash tests: the process dies inside its `write`-th checkpoint write, before or after the
/// rename (a journal record: half written, or just after it), as a power cut would. Handed in
/// by the command line (`AOCPIPE_TEST_CRASH_IN_CHECKPOINT`).
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
