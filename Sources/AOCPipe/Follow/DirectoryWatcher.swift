import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Tells the follow loop what changed in the directories of the pipeline's globs (inotify),
/// so new lines are read within milliseconds, and only in the files that got them: an idle
/// set of files costs nothing. A full look at every glob (`FileTracker.discover`) is needed
/// only when the directory itself changed (a file created, renamed, deleted, its attributes
/// changed), when the kernel's event queue overflowed, or at the rescan interval (the
/// fallback for what inotify cannot see: network file systems, directories made later).
///
/// A plain thread blocks in `read` on the inotify descriptor and hands each batch of events
/// to `onChange`.
final class DirectoryWatcher: @unchecked Sendable {
    /// What one batch of events says.
    struct Changes: Sendable, Equatable {
        /// A directory changed, or events were lost: look at every glob again.
        var rescan = false
        /// Files whose content changed (written to), as `directory/name`.
        var written: Set<String> = []
    }

    let fd: Int32
    let thread: Thread
    let watches: [Int32]
    let stopped = StopFlag()
    let finished = DispatchSemaphore(value: 0)

    final class StopFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    /// nil where inotify is not available or no directory could be watched. `dropEvery`
    /// (tests): every so many batches are lost as in a queue overflow, reported as one.
    /// `patterns`: the globs; events about names none of them matches (a sink's output, a
    /// checkpoint's temp file, other logs in the directory) are left out.
    init?(patterns: [String], dropEvery: Int? = nil, onChange: @escaping @Sendable (Changes) -> Void) {
        let directories = Self.directories(of: patterns)
        #if canImport(Glibc)
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        self.fd = fd
        let mask = UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB
                          | IN_DELETE_SELF | IN_MOVE_SELF)
        var byWatch: [Int32: String] = [:]
        for dir in Set(directories) {
            let w = inotify_add_watch(fd, dir, mask)
            if w >= 0 { byWatch[w] = dir }
        }
        watches = Array(byWatch.keys)
        guard !watches.isEmpty else { close(fd); return nil }
        let stopped = self.stopped
        let finished = self.finished
        let directoryOf = byWatch
        thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            var batches = 0
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 || stopped.value.load(ordering: .acquiring) { break }
                batches += 1
                if let dropEvery, batches % dropEvery == 0 {
                    onChange(Changes(rescan: true))
                    continue
                }
                let changes = Self.changes(in: buffer, count: n, directories: directoryOf, patterns: patterns)
                if changes != Changes() { onChange(changes) }
            }
            close(fd)
            finished.signal()
        }
        thread.name = "aocpipe.inotify"
        thread.start()
        #else
        return nil
        #endif
    }

    /// Decodes `count` bytes of `struct inotify_event`s.
    static func changes(in buffer: [UInt8], count: Int, directories: [Int32: String], patterns: [String]) -> Changes {
        var changes = Changes()
        #if canImport(Glibc)
        let header = MemoryLayout<inotify_event>.size
        var i = 0
        buffer.withUnsafeBytes { raw in
            while i + header <= count {
                let wd = raw.loadUnaligned(fromByteOffset: i, as: Int32.self)
                let mask = raw.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: i + 12, as: UInt32.self))
                let nameBytes = raw[(i + header)..<min(i + header + length, count)].prefix { $0 != 0 }
                i += header + length
                // The queue overflowed, or the watched directory itself went or moved: look again.
                guard mask & UInt32(IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) == 0,
                      let dir = directories[wd], !nameBytes.isEmpty else {
                    changes.rescan = true
                    continue
                }
                let name = String(decoding: nameBytes, as: UTF8.self)
                let path = dir == "." ? name : (dir.hasSuffix("/") ? dir + name : dir + "/" + name)
                // A subdirectory, or a name no glob matches: not a followed file's business.
                guard mask & UInt32(IN_ISDIR) == 0, patterns.contains(where: { Glob.matches($0, path) }) else { continue }
                if mask & UInt32(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB) != 0 {
                    changes.rescan = true
                } else if mask & UInt32(IN_MODIFY | IN_CLOSE_WRITE) != 0 {
                    changes.written.insert(path)
                }
            }
        }
        #endif
        return changes
    }

    /// Ends the thread, and waits (up to a second) until it has: removing the watches queues
    /// an event that wakes its `read`. The process must not exit under a running thread.
    func stop() {
        stopped.value.store(true, ordering: .releasing)
        for w in watches { inotify_rm_watch(fd, w) }
        _ = finished.wait(timeout: .now() + 1)
    }

    /// The directory part of each glob, where it has no wildcard.
    static func directories(of patterns: [String]) -> [String] {
        patterns.compactMap { pattern in
            let dir = pattern.contains("/") ? String(pattern[..<pattern.lastIndex(of: "/")!]) : "."
            return dir.contains(where: { "*?[".contains($0) }) ? nil : (dir.isEmpty ? "/" : dir)
        }
    }
}
