import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One process per checkpoint. An exclusive `flock` on `PATH.lock` (beside the checkpoint,
/// which every write replaces by a rename, so a lock on it would not last), taken before the
/// checkpoint is read and held for the run; the kernel lets it go when the process ends,
/// however it ends (`kill -9` included). The lock file holds the holder's pid, for the message
/// a second process gets. Taking it also proves at start that the checkpoint's directory can be
/// written, not only at the first checkpoint.
public final class CheckpointLock {
    let fd: Int32
    public let path: String

    /// The checkpoint's directory cannot be written: the run stops before reading anything.
    public struct Unusable: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot use checkpoint \(path): \(reason)" }
    }

    /// Takes the lock of the checkpoint at `checkpoint`, or says who holds it.
    public init(for checkpoint: String) throws {
        path = checkpoint + ".lock"
        let dir = URL(fileURLWithPath: checkpoint).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw Unusable(path: checkpoint, reason: "cannot create directory \(dir)")
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, AtomicFile.privateMode)
        guard fd >= 0 else { throw Unusable(path: checkpoint, reason: "cannot create \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            var text = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &text, text.count, 0)
            close(fd)
            guard busy else { throw Unusable(path: checkpoint, reason: "cannot lock \(path): \(reason)") }
            let holder = String(decoding: text.prefix(max(n, 0)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw CheckpointError(path: checkpoint, problem: "is in use by another aocpipe (pid \(holder.isEmpty ? "unknown" : holder)); "
                                  + "one process per checkpoint")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.fd = fd
    }

    deinit { close(fd) }
}
