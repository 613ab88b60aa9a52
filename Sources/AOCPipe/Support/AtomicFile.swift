import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so readers see the old version or the new one, never half of either:
/// a temp file beside it, fsync, rename, fsync of the directory.
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        /// The errno behind it (0: none).
        public var errno: Int32 = 0
        public var description: String { "cannot write \(path): \(reason)" }

        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }

        public init(path: String, errno: Int32) {
            self.init(path: path, reason: String(cString: strerror(errno)))
            self.errno = errno
        }

        /// The reader of a pipe went away (`aocpipe batch ... | head`): not worth a message.
        public var isBrokenPipe: Bool { errno == EPIPE }
    }

    /// `crashPoint` is for crash tests only: called after the temp file is written and synced
    /// (`.beforeRename`) and after the rename (`.afterRename`), where a process may die.
    public enum Stage: Sendable { case beforeRename, afterRename }

    /// Files that hold state or personal data (checkpoints, the quarantine): the owner only.
    public static let privateMode: mode_t = 0o600

    /// `mode`: the new file's permissions (less the umask); the file replaced keeps none of its own.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644,
                             crashPoint: ((Stage) -> Void)? = nil) throws(WriteError) {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        try makeDirectories(for: path)
        let temp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw WriteError(path: path, errno: errno) }
        var failure = writeAll(fd, bytes)
        if failure == nil && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == nil { crashPoint?(.beforeRename) }
        if failure == nil && rename(temp, path) != 0 { failure = errno }
        if let failure {
            unlink(temp)
            throw WriteError(path: path, errno: failure)
        }
        crashPoint?(.afterRename)
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    /// Creates the directories `path` is in, if missing; an error names the one that could
    /// not be made and why.
    public static func makeDirectories(for path: String) throws(WriteError) {
        let dir = (path as NSString).deletingLastPathComponent
        guard !dir.isEmpty else { return }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            if isDir.boolValue { return }
            throw WriteError(path: path, reason: "\(dir) is not a directory")
        }
        try makeDirectories(for: dir)
        if mkdir(dir, 0o755) != 0 && errno != EEXIST {
            throw WriteError(path: path, reason: "cannot create directory \(dir): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes temp files a crash left beside `path` (they never hold the current version).
    public static func removeLeftovers(of path: String) {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let prefix = "." + url.lastPathComponent + ".tmp-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(atPath: dir + "/" + name)
        }
    }

    public static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws(WriteError) {
        try write(Array(text.utf8), to: path, mode: mode)
    }
}
