import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Wakes the follow loop when something changes in the directories of the pipeline's globs
/// (inotify), so new lines are read within milliseconds instead of at the next poll. The poll
/// stays as the fallback (other systems, network file systems, directories made later).
///
/// A plain thread blocks in `read` on the inotify descriptor and hands each batch of events
/// to `onChange`; which file changed does not matter, the tick looks at all of them.
final class DirectoryWatcher: @unchecked Sendable {
    let fd: Int32
    let thread: Thread
    let watches: [Int32]
    let stopped = StopFlag()
    let finished = DispatchSemaphore(value: 0)

    final class StopFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    /// nil where inotify is not available or no directory could be watched.
    init?(directories: [String], onChange: @escaping @Sendable () -> Void) {
        #if canImport(Glibc)
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        self.fd = fd
        let mask = UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB)
        watches = Set(directories).map { inotify_add_watch(fd, $0, mask) }.filter { $0 >= 0 }
        guard !watches.isEmpty else { close(fd); return nil }
        let stopped = self.stopped
        let finished = self.finished
        thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {
                if stopped.value.load(ordering: .acquiring) { break }
                onChange()
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
