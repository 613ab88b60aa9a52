#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file read with `pread`, so readers can look ahead or go back (gzip resync)
/// without disturbing each other. Closed on deinit.
public final class InputFile: @unchecked Sendable {
    public let path: String
    let fd: Int32

    public init(path: String) throws(InputError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw InputError.cannotOpen(path: path, errno: errno) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw InputError.isDirectory(path: path)
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// What `fstat` says of the open file: identity, links (0 once deleted) and size.
    public struct Status: Sendable, Equatable {
        public var device: UInt64
        public var inode: UInt64
        public var links: Int
        public var size: Int
        /// Modification time, Unix nanoseconds.
        public var modifiedNanos = 0
    }

    public var status: Status {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return Status(device: 0, inode: 0, links: 0, size: 0) }
        return Status(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), links: Int(st.st_nlink), size: Int(st.st_size),
                      modifiedNanos: Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec))
    }

    /// Device and inode of a path, without opening it; nil if it is not a regular file.
    public static func identity(of path: String) -> (device: UInt64, inode: UInt64)? {
        pathStatus(of: path).map { ($0.device, $0.inode) }
    }

    /// One `stat` of a path: device, inode and modification time (ns); nil if it is not a
    /// regular file. (Foundation's `attributesOfItem` also reads the passwd and group files.)
    public static func pathStatus(of path: String) -> (device: UInt64, inode: UInt64, modifiedNanos: Int, size: Int)? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino), Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec), Int(st.st_size))
    }

    /// Size of the file now.
    public var size: Int {
        var st = stat()
        return fstat(fd, &st) == 0 ? Int(st.st_size) : 0
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at the end of the file.
    public func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw InputError.readFailed(path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }
}

public enum InputError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, errno: Int32)
    case isDirectory(path: String)
    case readFailed(path: String, errno: Int32)
    case decoderFailed(path: String, message: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, e): return "cannot open \(path): \(String(cString: strerror(e)))"
        case let .isDirectory(path): return "\(path) is a directory, not a log file"
        case let .readFailed(path, e): return "cannot read \(path): \(String(cString: strerror(e)))"
        case let .decoderFailed(path, message): return "\(path): \(message)"
        }
    }
}
