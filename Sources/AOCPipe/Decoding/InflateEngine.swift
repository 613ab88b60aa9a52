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

    static func make(_ kind: Kind, path: String) throws(InputError) -> any InflateEngine {
        #if ISAL
        if kind == .isal { return ISALEngine() }
        #endif
        return try ZlibEngine(path: path)
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

final class ZlibEngine: InflateEngine {
    let stream: UnsafeMutablePointer<z_stream>
    let path: String

    init(path: String) throws(InputError) {
        self.path = path
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard czlib_inflate_init_gzip(stream) == Z_OK else {
            stream.deallocate()
            throw InputError.decoderFailed(path: path, message: "zlib inflateInit2 failed")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func reset() throws(InputError) {
        guard inflateReset(stream) == Z_OK else { throw InputError.decoderFailed(path: path, message: "zlib inflateReset failed") }
        stream.pointee.avail_in = 0
        stream.pointee.next_in = nil
    }

    func setInput(_ bytes: UnsafeRawBufferPointer) {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(bytes.count)
    }

    var availableInput: Int { Int(stream.pointee.avail_in) }

    func inflate(into out: UnsafeMutableRawBufferPointer) -> (written: Int, outcome: InflateOutcome) {
        stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(out.count)
        let status = CZlib.inflate(stream, Z_NO_FLUSH)
        let written = out.count - Int(stream.pointee.avail_out)
        switch status {
        case Z_OK, Z_BUF_ERROR: return (written, .more)
        case Z_STREAM_END: return (written, .memberEnded)
        default: return (written, .damaged)
        }
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
