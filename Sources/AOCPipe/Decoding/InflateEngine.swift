import CZlib
import Foundation
#if ISAL
import CISAL
#endif

/// One gzip member's inflater: zlib everywhere, ISA-L when built with the `ISAL` trait
/// (about three times faster). `GzipDecoder` drives it; the engines only inflate.
protocol InflateEngine: AnyObject {
    /// Starts a new member (its gzip header comes next in the input).
    func reset() throws(InputError)
    func setInput(_ bytes: UnsafeRawBufferPointer)
    /// Input bytes not consumed yet.
    var availableInput: Int { get }
    /// Inflates into `out`; returns the bytes written (also those before damage) and how the
    /// member stands.
    func inflate(into out: UnsafeMutableRawBufferPointer) -> (written: Int, outcome: InflateOutcome)
}

enum InflateOutcome {
    case more
    /// The member ended and its CRC and length matched.
    case memberEnded
    case damaged
}

public enum InflateEngines {
    public enum Kind: String, Sendable { case zlib, isal }

    /// The fastest engine built in, unless `AOCPIPE_INFLATE=zlib` asks for zlib. Live files
    /// (follow) always get zlib: ISA-L holds back the last bytes of its input until more
    /// arrives, so the newest lines of a member still being written would wait.
    static func preferred(live: Bool) -> Kind {
        #if ISAL
        if !live && ProcessInfo.processInfo.environment["AOCPIPE_INFLATE"] != "zlib" { return .isal }
        #endif
        return .zlib
    }

    /// `live`: zlib stops at block ends, where access points are taken.
    static func make(_ kind: Kind, path: String, live: Bool = false) throws(InputError) -> any InflateEngine {
        #if ISAL
        if kind == .isal { return ISALEngine() }
        #endif
        return try ZlibEngine(path: path, blocks: live)
    }

    /// The engines this build has.
    public static var available: [Kind] {
        #if ISAL
        return [.isal, .zlib]
        #else
        return [.zlib]
        #endif
    }
}

/// zlib's inflater. Live (`blocks`), it stops at every deflate block end, where
/// `GzipDecoder` may take an access point. Resumed at an access point, it inflates raw
/// deflate and checks the member's trailer itself, with the CRC-32 and length carried over.
final class ZlibEngine: InflateEngine {
    let stream: UnsafeMutablePointer<z_stream>
    let path: String
    let blocks: Bool
    /// Resumed inside a member: its CRC-32 and length (mod 2^32) so far. nil: the gzip
    /// wrapper is zlib's, which checks the trailer.
    private var resumed: (crc: UInt32, length: UInt32)?
    /// A resumed member's deflate data ended: its 8-byte trailer (CRC-32, ISIZE), as it arrives.
    private var inTrailer = false
    private var trailer: UInt64 = 0, trailerBytes = 0

    init(path: String, blocks: Bool = false) throws(InputError) {
        self.path = path
        self.blocks = blocks
        stream = try Self.stream(path: path, raw: false)
    }

    /// A z_stream for a gzip member (`raw`: deflate data inside one, from an access point).
    private static func stream(path: String, raw: Bool) throws(InputError) -> UnsafeMutablePointer<z_stream> {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard (raw ? czlib_inflate_init_raw(stream) : czlib_inflate_init_gzip(stream)) == Z_OK else {
            stream.deallocate()
            throw InputError.decoderFailed(path: path, message: "zlib inflateInit2 failed")
        }
        return stream
    }

    /// Goes on inside a member at `point`: `lastByte` is the byte before the point's file
    /// offset when `point.bits` of it are still to be read; `length`: the member's decoded
    /// bytes before the point.
    init(path: String, resumingAt point: AccessPoint, lastByte: UInt8, length: Int, blocks: Bool) throws(InputError) {
        self.path = path
        self.blocks = blocks
        stream = try Self.stream(path: path, raw: true)
        resumed = (point.crc, UInt32(truncatingIfNeeded: length))
        let primed = point.bits == 0 ? Z_OK : inflatePrime(stream, Int32(point.bits), Int32(lastByte >> (8 - point.bits)))
        let windowSet = point.window.withUnsafeBufferPointer { inflateSetDictionary(stream, $0.baseAddress, uInt($0.count)) }
        guard primed == Z_OK, windowSet == Z_OK else {
            throw InputError.decoderFailed(path: path, message: "zlib cannot resume at the checkpoint's access point")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func reset() throws(InputError) {
        if resumed != nil {
            // A new member: back to the gzip wrapper.
            inflateEnd(stream)
            stream.initialize(to: z_stream())
            resumed = nil
            inTrailer = false
            trailer = 0
            trailerBytes = 0
            guard czlib_inflate_init_gzip(stream) == Z_OK else { throw InputError.decoderFailed(path: path, message: "zlib inflateInit2 failed") }
        }
        guard inflateReset(stream) == Z_OK else { throw InputError.decoderFailed(path: path, message: "zlib inflateReset failed") }
        stream.pointee.avail_in = 0
        stream.pointee.next_in = nil
    }

    func setInput(_ bytes: UnsafeRawBufferPointer) {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(bytes.count)
    }

    var availableInput: Int { Int(stream.pointee.avail_in) }

    /// Inflating raw deflate from an access point (until the next member).
    var isResumed: Bool { resumed != nil }

    func inflate(into out: UnsafeMutableRawBufferPointer) -> (written: Int, outcome: InflateOutcome) {
        var written = 0
        if !inTrailer {
            stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(out.count)
            let status = CZlib.inflate(stream, blocks ? Z_BLOCK : Z_NO_FLUSH)
            written = out.count - Int(stream.pointee.avail_out)
            if var r = resumed, written > 0 {
                r.crc = UInt32(crc32(uLong(r.crc), out.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(written)))
                r.length &+= UInt32(truncatingIfNeeded: written)
                resumed = r
            }
            switch status {
            case Z_OK, Z_BUF_ERROR: return (written, .more)
            case Z_STREAM_END:
                guard resumed != nil else { return (written, .memberEnded) }
                inTrailer = true
            default: return (written, .damaged)
            }
        }
        // Resumed: the trailer follows the deflate data, little-endian CRC-32 then length.
        while trailerBytes < 8 && stream.pointee.avail_in > 0 {
            trailer |= UInt64(stream.pointee.next_in.pointee) << (8 * UInt64(trailerBytes))
            stream.pointee.next_in += 1
            stream.pointee.avail_in -= 1
            trailerBytes += 1
        }
        // Still in the deflate data, or the trailer not all here yet (a live file).
        guard trailerBytes == 8, let r = resumed else { return (written, .more) }
        let matches = UInt32(truncatingIfNeeded: trailer) == r.crc && UInt32(truncatingIfNeeded: trailer >> 32) == r.length
        return (written, matches ? .memberEnded : .damaged)
    }

    /// At a deflate block end that is not the member's last (live only: `blocks`): the bits
    /// of the last byte read still unused, and the member's CRC-32 so far.
    var blockBoundary: (bits: Int, crc: UInt32)? {
        let type = stream.pointee.data_type
        guard blocks, !inTrailer, type & 128 != 0, type & 64 == 0 else { return nil }
        return (Int(type & 7), resumed?.crc ?? UInt32(truncatingIfNeeded: stream.pointee.adler))
    }

    /// The last 32 KiB decoded (less near a member's start): what later blocks may copy from.
    func window() -> [UInt8] {
        var window = [UInt8](repeating: 0, count: AccessPoint.windowSize)
        var length = uInt(0)
        window.withUnsafeMutableBufferPointer { _ = inflateGetDictionary(stream, $0.baseAddress, &length) }
        window.removeLast(window.count - Int(length))
        return window
    }
}

#if ISAL
final class ISALEngine: InflateEngine {
    let state: UnsafeMutablePointer<inflate_state>

    init() {
        state = .allocate(capacity: 1)
        state.initialize(to: inflate_state())
        isal_inflate_init(state)
        state.pointee.crc_flag = UInt32(ISAL_GZIP)
    }

    deinit { state.deallocate() }

    func reset() throws(InputError) {
        isal_inflate_reset(state)
        state.pointee.crc_flag = UInt32(ISAL_GZIP)
        state.pointee.avail_in = 0
        state.pointee.next_in = nil
    }

    func setInput(_ bytes: UnsafeRawBufferPointer) {
        state.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
        state.pointee.avail_in = UInt32(bytes.count)
    }

    var availableInput: Int { Int(state.pointee.avail_in) }

    func inflate(into out: UnsafeMutableRawBufferPointer) -> (written: Int, outcome: InflateOutcome) {
        state.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
        state.pointee.avail_out = UInt32(out.count)
        let status = isal_inflate(state)
        let written = out.count - Int(state.pointee.avail_out)
        guard status >= 0 else { return (written, .damaged) }
        return (written, state.pointee.block_state == ISAL_BLOCK_FINISH ? .memberEnded : .more)
    }
}
#endif
