import AOCPipe
import CZlib
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a generated log file, plain or gzip (one member, header without name or time, so
/// the same input gives the same bytes).
public final class LogWriter {
    let path: String
    let fd: Int32
    let stream: UnsafeMutablePointer<z_stream>?
    let out: UnsafeMutableRawBufferPointer

    public struct Failure: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot write \(path): \(reason)" }
    }

    /// `gzipLevel` nil writes plain text.
    public init(path: String, gzipLevel: Int?) throws(Failure) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        out = .allocate(byteCount: 1 << 18, alignment: 16)
        if let level = gzipLevel {
            let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            s.initialize(to: z_stream())
            guard czlib_deflate_init_gzip(s, Int32(level)) == Z_OK else {
                throw Failure(path: path, reason: "zlib deflateInit2 failed")
            }
            stream = s
        } else {
            stream = nil
        }
    }

    deinit {
        if let stream {
            deflateEnd(stream)
            stream.deallocate()
        }
        out.deallocate()
        close(fd)
    }

    public func write(_ bytes: [UInt8]) throws(Failure) {
        var failure: Failure?
        bytes.withUnsafeBytes { raw in
            do throws(Failure) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    public func write(_ raw: UnsafeRawBufferPointer) throws(Failure) {
        guard let stream else { return try writeAll(raw) }
        guard raw.count > 0 else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: raw.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(raw.count)
        try pump(flush: Z_NO_FLUSH)
    }

    /// Makes everything written so far decodable (gzip: a sync flush, as rsyslog's `zipLevel`
    /// does), without ending the member.
    public func syncFlush() throws(Failure) {
        if stream != nil { try pump(flush: Z_SYNC_FLUSH) }
    }

    public func finish() throws(Failure) {
        if stream != nil { try pump(flush: Z_FINISH) }
    }

    func pump(flush: Int32) throws(Failure) {
        guard let stream else { return }
        while true {
            stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(out.count)
            let status = deflate(stream, flush)
            let produced = out.count - Int(stream.pointee.avail_out)
            try writeAll(UnsafeRawBufferPointer(rebasing: out[0..<produced]))
            if flush == Z_FINISH {
                if status == Z_STREAM_END { return }
                guard status == Z_OK || status == Z_BUF_ERROR else { throw Failure(path: path, reason: "deflate failed") }
            } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 {
                // Z_SYNC_FLUSH is complete once deflate leaves output space unused.
                return
            }
        }
    }

    func writeAll(_ raw: UnsafeRawBufferPointer) throws(Failure) {
        var done = 0
        while done < raw.count {
            let n = systemWrite(fd, raw.baseAddress! + done, raw.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(path: path, reason: String(cString: strerror(errno)))
            }
            done += n
        }
    }
}

/// Appending formatted fields to a byte buffer without going through `String`.
extension Array where Element == UInt8 {
    @inline(__always)
    mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { append(contentsOf: $0) }
    }

    @inline(__always)
    mutating func appendDigits(_ value: Int, width: Int) {
        var v = value
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        Swift.withUnsafeMutableBytes(of: &tmp) { t in
            repeat {
                t[n] = UInt8(48 + v % 10)
                v /= 10
                n += 1
            } while v > 0 && n < 20
            while n < width && n < 20 { t[n] = 48; n += 1 }
            for i in stride(from: n - 1, through: 0, by: -1) { append(t[i]) }
        }
    }

    @inline(__always)
    mutating func appendInt(_ value: Int) {
        if value < 0 { append(UInt8(ascii: "-")); appendDigits(-value, width: 1) } else { appendDigits(value, width: 1) }
    }

    /// `YYYY-MM-DD HH:MM:SS` (separator `sep`) of wall-clock seconds.
    @inline(__always)
    mutating func appendDateTime(localSeconds: Int, separator: UInt8 = UInt8(ascii: " ")) {
        let (y, m, d) = CivilTime.civilFromDays(CivilTime.floorDiv(localSeconds, 86_400))
        let s = CivilTime.floorMod(localSeconds, 86_400)
        appendDigits(y, width: 4); append(UInt8(ascii: "-")); appendDigits(m, width: 2); append(UInt8(ascii: "-"))
        appendDigits(d, width: 2); append(separator); appendDigits(s / 3600, width: 2); append(UInt8(ascii: ":"))
        appendDigits(s / 60 % 60, width: 2); append(UInt8(ascii: ":")); appendDigits(s % 60, width: 2)
    }
}
