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
        public var description: String { "cannot write \(path): \(reason)" }
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
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw WriteError(path: path, reason: "cannot create directory \(dir)")
        }
        let temp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        var ok = true
        var failure = ""
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = systemWrite(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    ok = false
                    failure = String(cString: strerror(errno))
                    return
                }
                done += n
            }
        }
        if ok && fsync(fd) != 0 { ok = false; failure = String(cString: strerror(errno)) }
        close(fd)
        if ok { crashPoint?(.beforeRename) }
        guard ok, rename(temp, path) == 0 else {
            let reason = ok ? String(cString: strerror(errno)) : failure
            unlink(temp)
            throw WriteError(path: path, reason: reason)
        }
        crashPoint?(.afterRename)
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
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
