import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a result where a path points, as its target asks:
///
/// - `-`: standard output;
/// - a device, FIFO or socket (`/dev/stdout`, `/dev/full`, a named pipe), or anything under
///   `/dev` or `/proc`: opened and written directly, never renamed over;
/// - a symlink: written through (its final target is replaced atomically, the link stays);
/// - anything else: replaced atomically (`AtomicFile`).
///
/// Every write checks its result; a failure is an `AtomicFile.WriteError` with the errno.
public enum OutputFile {
    public enum Target: Equatable, Sendable {
        case standardOutput
        case direct(String)
        case atomic(String)
    }

    /// Where writing to `path` goes.
    public static func target(of path: String) -> Target {
        if path == "-" { return .standardOutput }
        let resolved = resolvingLinks(path)
        var st = stat()
        if stat(resolved, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG && (st.st_mode & S_IFMT) != S_IFDIR {
            return .direct(path)
        }
        for special in ["/dev/", "/proc/"] where path.hasPrefix(special) || resolved.hasPrefix(special) {
            return .direct(path)
        }
        return .atomic(resolved)
    }

    /// `path` with the symlinks of its last component followed (up to 40), relative ones from
    /// the link's directory. A dangling link gives the path it points at.
    public static func resolvingLinks(_ path: String) -> String {
        var current = path
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        for _ in 0..<40 {
            let n = readlink(current, &buffer, buffer.count - 1)
            guard n > 0 else { return current }
            let dest = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let dir = (current as NSString).deletingLastPathComponent
            current = dest.hasPrefix("/") || dir.isEmpty ? dest : dir + "/" + dest
        }
        return current
    }

    /// Writes `bytes` to what `path` names. `mode`: a new file's permissions.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(AtomicFile.WriteError) {
        switch target(of: path) {
        case .standardOutput:
            try StandardStream.output.write(bytes)
        case .direct(let path):
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw AtomicFile.WriteError(path: path, errno: errno) }
            defer { close(fd) }
            var st = stat()
            if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG { _ = ftruncate(fd, 0) }
            if let failure = writeAll(fd, bytes) { throw AtomicFile.WriteError(path: path, errno: failure) }
        case .atomic(let path):
            try AtomicFile.write(bytes, to: path, mode: mode)
        }
    }

    public static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws(AtomicFile.WriteError) {
        try write(Array(text.utf8), to: path, mode: mode)
    }
}

/// Standard output and error, written with every result checked (Foundation's
/// `FileHandle.write` traps on an error such as a full disk or a closed pipe).
public struct StandardStream: Sendable {
    public let fd: Int32
    public let name: String

    public static let output = StandardStream(fd: 1, name: "standard output")
    public static let error = StandardStream(fd: 2, name: "standard error")

    public func write(_ bytes: [UInt8]) throws(AtomicFile.WriteError) {
        if let failure = writeAll(fd, bytes) { throw AtomicFile.WriteError(path: name, errno: failure) }
    }

    public func write(_ text: String) throws(AtomicFile.WriteError) { try write(Array(text.utf8)) }
}

/// Writes all of `bytes` to `fd` (retrying short writes and EINTR): nil, or the errno that
/// stopped it.
package func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
    bytes.withUnsafeBytes { raw -> Int32? in
        var done = 0
        while done < raw.count {
            let n = systemWrite(fd, raw.baseAddress! + done, raw.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if n == 0 { return EIO }
            done += n
        }
        return nil
    }
}
