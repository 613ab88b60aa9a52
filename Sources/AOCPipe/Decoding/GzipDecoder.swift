import CZlib

/// Streaming gzip decoder over zlib: multi-member files, bounded memory, damage recovery.
///
/// Member boundaries are checked by reading the file at the boundary (`pread`), so the decoder
/// can look for the next member after damage without holding more than one input chunk:
/// - after a member ends, the next bytes must be a member header (`1f 8b 08`), zero padding
///   (tolerated to the end of the file), or garbage (reported, then resync);
/// - a member zlib rejects is reported at its start; decoding resumes at the next header found
///   after that start, so a header inside the damaged region is not skipped;
/// - the file ending inside a member is reported as truncated; the lines before count.
public final class GzipDecoder: ByteDecoder {
    enum State { case boundary, inMember, done }

    let file: InputFile
    let stream: UnsafeMutablePointer<z_stream>
    let input: UnsafeMutableRawBufferPointer
    var state = State.boundary
    /// File offset of the next byte to read into `input`.
    var readOffset = 0
    var memberStart = 0
    public private(set) var damage: [DecodeDamage] = []

    public var bytesConsumed: Int { readOffset - Int(stream.pointee.avail_in) }

    public init(file: InputFile, readSize: Int = 256 * 1024) throws(InputError) {
        self.file = file
        input = .allocate(byteCount: max(readSize, 1), alignment: 16)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard czlib_inflate_init_gzip(stream) == Z_OK else {
            input.deallocate()
            stream.deallocate()
            throw InputError.decoderFailed(path: file.path, message: "zlib inflateInit2 failed")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> (count: Int, gap: Bool) {
        var produced = 0
        while produced < buffer.count {
            switch state {
            case .done:
                return (produced, false)
            case .boundary:
                try startNextMember(at: bytesConsumed)
            case .inMember:
                if stream.pointee.avail_in == 0 {
                    let n = try file.read(at: readOffset, into: input)
                    if n == 0 {
                        damage.append(DecodeDamage(path: file.path, kind: .truncatedMember, offset: memberStart, resumedAt: nil))
                        state = .done
                        return (produced, true)
                    }
                    readOffset += n
                    stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_in = uInt(n)
                }
                let out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                stream.pointee.next_out = out
                stream.pointee.avail_out = uInt(buffer.count - produced)
                let status = inflate(stream, Z_NO_FLUSH)
                produced = buffer.count - Int(stream.pointee.avail_out)
                switch status {
                case Z_OK, Z_BUF_ERROR:
                    continue
                case Z_STREAM_END:
                    let boundary = bytesConsumed
                    dropInput(resumeAt: boundary)
                    state = .boundary
                default:
                    // Corrupt member: the bytes decoded before the damage stand; look for the
                    // next member from just after this one's start.
                    let start = memberStart
                    dropInput(resumeAt: start + 1)
                    let next = try findHeader(from: start + 1)
                    damage.append(DecodeDamage(path: file.path, kind: .corruptMember, offset: start, resumedAt: next))
                    if let next { try beginMember(at: next) } else { state = .done }
                    return (produced, true)
                }
            }
        }
        return (produced, false)
    }

    /// Forgets buffered input, so the next read starts at `offset`.
    func dropInput(resumeAt offset: Int) {
        stream.pointee.avail_in = 0
        stream.pointee.next_in = nil
        readOffset = offset
    }

    func beginMember(at offset: Int) throws(InputError) {
        guard inflateReset(stream) == Z_OK else {
            throw InputError.decoderFailed(path: file.path, message: "zlib inflateReset failed")
        }
        dropInput(resumeAt: offset)
        memberStart = offset
        state = .inMember
    }

    /// At a member boundary: a new member, zero padding to the end, the end, or garbage.
    func startNextMember(at offset: Int) throws(InputError) {
        var head: (UInt8, UInt8, UInt8) = (0, 0, 0)
        let n = try withUnsafeMutableBytes(of: &head) { (b) throws(InputError) -> Int in try file.read(at: offset, into: b) }
        if n == 0 { state = .done; return }
        if n == 3 && head == (0x1f, 0x8b, 0x08) { try beginMember(at: offset); return }
        if try isZeroToEnd(from: offset) { state = .done; return }
        let next = try findHeader(from: offset + 1)
        damage.append(DecodeDamage(path: file.path, kind: .garbage, offset: offset, resumedAt: next))
        if let next { try beginMember(at: next) } else { state = .done }
    }

    func isZeroToEnd(from offset: Int) throws(InputError) -> Bool {
        var at = offset
        while true {
            let n = try file.read(at: at, into: input)
            if n == 0 { return true }
            for i in 0..<n where input[i] != 0 { return false }
            at += n
        }
    }

    /// The offset of the next `1f 8b 08` at or after `offset`, scanning in input-sized steps.
    func findHeader(from offset: Int) throws(InputError) -> Int? {
        var at = offset
        let step = max(input.count, 64)
        let window = UnsafeMutableRawBufferPointer.allocate(byteCount: step + 2, alignment: 1)
        defer { window.deallocate() }
        while true {
            let n = try file.read(at: at, into: window)
            if n < 3 { return nil }
            var i = 0
            while i + 2 < n {
                if window[i] == 0x1f && window[i + 1] == 0x8b && window[i + 2] == 0x08 { return at + i }
                i += 1
            }
            at += n - 2
        }
    }
}
