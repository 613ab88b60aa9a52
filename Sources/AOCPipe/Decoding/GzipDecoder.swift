
/// Streaming gzip decoder over zlib: multi-member files, bounded memory, damage recovery,
/// and files still being written.
///
/// Member boundaries are checked by reading the file at the boundary (`pread`), so the decoder
/// can look for the next member after damage without holding more than one input chunk:
/// - after a member ends, the next bytes must be a member header (`1f 8b 08`), zero padding
///   (tolerated to the end of the file), or garbage (reported, then resync);
/// - a member zlib rejects (bad data, or a CRC or length that does not match at its end) is
///   reported at its start; decoding resumes at the next header found after that start, so a
///   header inside the damaged region is not skipped;
/// - finite: the file ending inside a member is reported as truncated; the lines before count.
///   Live: it is a member still being written (rsyslog's `zipLevel` writes one member with sync
///   flushes and no trailer until close); decoding goes on when more bytes arrive. If the
///   writer died and a new member starts where the old one stopped, zlib rejects the mix and
///   the decoder resyncs at the new header.
///
/// Live, the decoder also takes access points inside a member (`AccessPoint`): at a deflate
/// block end when it has read all that is written, and at least every `accessSpan` decoded
/// bytes. A checkpoint holds one, so a restart inside a member that grows all day decodes
/// from there, not from the member's start.
public final class GzipDecoder: ByteDecoder {
    enum State {
        case boundary
        case inMember
        /// Looking for a member header at or after this offset.
        case resync(from: Int)
        case done
    }

    let file: InputFile
    let live: Bool
    let kind: InflateEngines.Kind
    var engine: any InflateEngine
    let input: UnsafeMutableRawBufferPointer
    var state = State.boundary
    /// File offset of the next byte to read into `input`.
    var readOffset: Int
    /// Decoded bytes the engine has produced (and not discarded), counted from the file's start.
    var engineOffset: Int
    /// Decoded bytes given out so far: all the engine produced but what is held back.
    public var decodedOffset: Int { engineOffset - heldCount }
    /// ISA-L's output of the member being decoded, held back from the caller until more is
    /// decoded or the member ends (see `holdBack`).
    let held: UnsafeMutableRawBufferPointer
    var heldCount = 0
    /// Where the current member started, and the points decoding may restart from (member
    /// starts and access points, in file order).
    var memberStart: Int
    var memberDecodedStart: Int
    var memberStarts: [ResumePoint]
    /// Decoded bytes to drop: a member decoded again from its start (see `fallBackToZlib`).
    var discard = 0
    public private(set) var damage: [DecodeDamage] = []
    /// `startNextMember` refused a member's header: `read` reports a gap.
    var headerRejected = false

    public var bytesConsumed: Int { readOffset - engine.availableInput }

    /// `resume` must be a `ResumePoint` this decoder gave out: the start of a member, or an
    /// access point inside one.
    /// `engine`: which inflater to use (default: the fastest built in; see `InflateEngines`).
    public init(file: InputFile, readSize: Int = 256 * 1024, live: Bool = false,
                from resume: ResumePoint = .start, engine kind: InflateEngines.Kind? = nil) throws(InputError) {
        self.file = file
        self.live = live
        readOffset = resume.fileOffset
        engineOffset = resume.decodedOffset
        memberStart = resume.access?.memberStart ?? resume.fileOffset
        memberDecodedStart = resume.access?.memberDecodedStart ?? resume.decodedOffset
        memberStarts = [resume]
        let chosen = kind ?? InflateEngines.preferred(live: live)
        self.kind = chosen
        if let point = resume.access {
            // Inside a member: zlib, primed with the point's bits and window (any build).
            var last: UInt8 = 0
            if point.bits > 0 {
                let n = try withUnsafeMutableBytes(of: &last) { (b) throws(InputError) -> Int in try file.read(at: resume.fileOffset - 1, into: b) }
                guard n == 1 else { throw InputError.decoderFailed(path: file.path, message: "the checkpoint's access point is past the end of the file") }
            }
            engine = try ZlibEngine(path: file.path, resumingAt: point, lastByte: last,
                                    length: resume.decodedOffset - point.memberDecodedStart, blocks: live)
            state = .inMember
        } else {
            engine = try InflateEngines.make(chosen, path: file.path, live: live)
        }
        held = .allocate(byteCount: chosen == .zlib || live ? 0 : Self.holdBack, alignment: 16)
        input = .allocate(byteCount: max(readSize, 1), alignment: 16)
    }

    /// Live: decoded bytes between access points while a member is read at speed (a restart
    /// decodes at most this much again; each point costs a 32 KiB copy).
    static let accessSpan = 4 << 20

    /// At a block end: an access point here, if all that is written was read (a restart goes
    /// on exactly here) or `accessSpan` was decoded since the last point.
    func noteAccessPoint() {
        guard let zlib = engine as? ZlibEngine, discard == 0, let last = memberStarts.last else { return }
        let since = engineOffset - last.decodedOffset
        guard since > 0, since >= Self.accessSpan || engine.availableInput == 0, let boundary = zlib.blockBoundary else { return }
        let point = AccessPoint(memberStart: memberStart, memberDecodedStart: memberDecodedStart,
                                bits: boundary.bits, crc: boundary.crc, window: zlib.window())
        memberStarts.append(ResumePoint(fileOffset: bytesConsumed, decodedOffset: engineOffset, access: point))
    }

    deinit {
        input.deallocate()
        held.deallocate()
    }

    /// How much of a damaged member's output may be taken back (ISA-L only). ISA-L finds some
    /// damage later than zlib does (it takes Huffman tables zlib refuses, and decodes on until
    /// a code it has no symbol for): the bytes between are garbage that zlib never gives. On
    /// damage the member is decoded again with zlib; what ISA-L gave of it is still in the
    /// caller's buffer, or held here, is taken back, so both builds give the same bytes unless
    /// ISA-L ran more than this far past zlib's stop (not seen in thousands of single-byte
    /// changes). Only with caller buffers of at least 4x this (batch's are 1 MiB); it costs a
    /// copy of 1/16 of the bytes.
    static let holdBack = 64 * 1024

    public func resumePoint(for decoded: Int) -> ResumePoint {
        // Members that start after `decoded` are not needed; nor any before the last that
        // starts at or before it.
        let usable = memberStarts.lastIndex { $0.decodedOffset <= decoded } ?? 0
        if usable > 0 { memberStarts.removeFirst(usable) }
        return memberStarts[0]
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> (count: Int, gap: Bool) {
        var produced = 0
        // Bytes at the end of `buffer` from the member being decoded (they can be taken back).
        var memberBytes = 0
        if heldCount > 0 {
            let n = min(heldCount, buffer.count)
            buffer.baseAddress!.copyMemory(from: held.baseAddress!, byteCount: n)
            if n < heldCount { held.baseAddress!.copyMemory(from: held.baseAddress! + n, byteCount: heldCount - n) }
            heldCount -= n
            produced = n
            memberBytes = n
        }
        while produced < buffer.count {
            switch state {
            case .done:
                return (produced, false)
            case .boundary:
                let started = try startNextMember(at: bytesConsumed)
                memberBytes = 0
                if headerRejected {
                    headerRejected = false
                    return (produced, true)  // a damaged member is a gap, as when zlib finds the damage
                }
                guard started else { return (produced, false) }
            case .resync(let from):
                guard try resync(from: from) else { return (produced, false) }
                memberBytes = 0
            case .inMember:
                if engine.availableInput == 0 {
                    let n = try file.read(at: readOffset, into: input)
                    if n == 0 {
                        if live { return (produced, false) }  // more may come
                        if try fallBackToZlib(produced: &produced, memberBytes: &memberBytes) { continue }
                        damage.append(DecodeDamage(path: file.path, kind: .truncatedMember, offset: memberStart, resumedAt: nil))
                        state = .done
                        return (produced, true)
                    }
                    readOffset += n
                    engine.setInput(UnsafeRawBufferPointer(rebasing: input[0..<n]))
                }
                var (written, outcome) = engine.inflate(into: UnsafeMutableRawBufferPointer(rebasing: buffer[produced...]))
                if discard > 0 && written > 0 {
                    let d = min(discard, written)
                    let base = buffer.baseAddress! + produced
                    if written > d { base.copyMemory(from: base + d, byteCount: written - d) }
                    discard -= d
                    written -= d
                }
                engineOffset += written  // kept current: member starts record it
                produced += written
                memberBytes += written
                switch outcome {
                case .more:
                    if live { noteAccessPoint() }
                    continue
                case .memberEnded:
                    let boundary = bytesConsumed
                    dropInput(resumeAt: boundary)
                    state = .boundary
                    memberBytes = 0
                case .damaged:
                    if try fallBackToZlib(produced: &produced, memberBytes: &memberBytes) { continue }
                    // The bytes decoded before the damage stand; look for the next member
                    // from just after this one's start.
                    let start = memberStart
                    dropInput(resumeAt: start + 1)
                    damage.append(DecodeDamage(path: file.path, kind: .corruptMember, offset: start, resumedAt: nil))
                    state = .resync(from: start + 1)
                    // Resolve the resync now when we can, so the report says where it went on.
                    _ = try resync(from: start + 1)
                    return (produced, true)
                }
            }
        }
        // The buffer is full inside a member ISA-L is decoding: its last bytes wait, so that
        // damage found soon after can still take them back.
        if case .inMember = state, heldCount == 0, held.count > 0, !(engine is ZlibEngine), buffer.count >= 4 * held.count {
            let keep = min(memberBytes, held.count)
            held.baseAddress!.copyMemory(from: buffer.baseAddress! + produced - keep, byteCount: keep)
            heldCount = keep
            produced -= keep
        }
        return (produced, false)
    }

    /// ISA-L, at damage or a cut, may still hold decoded bytes it has not written out (it
    /// keeps the end of its input until more arrives). To report exactly what zlib would,
    /// the member is decoded again with zlib from its start. What of the member is still in
    /// the caller's buffer (`memberBytes` at the end of `produced`) is taken back first, so
    /// zlib's bytes replace it; only what was given out before this read is dropped from
    /// zlib's output. False when the engine is zlib already.
    func fallBackToZlib(produced: inout Int, memberBytes: inout Int) throws(InputError) -> Bool {
        guard !(engine is ZlibEngine) else { return false }
        engine = try ZlibEngine(path: file.path)
        try engine.reset()
        dropInput(resumeAt: memberStart)
        let back = min(memberBytes, produced)
        produced -= back
        engineOffset -= back
        memberBytes = 0
        discard = engineOffset - memberDecodedStart
        state = .inMember
        return true
    }

    /// Forgets buffered input, so the next read starts at `offset`.
    func dropInput(resumeAt offset: Int) {
        engine.setInput(UnsafeRawBufferPointer(start: nil, count: 0))
        readOffset = offset
    }

    func beginMember(at offset: Int) throws(InputError) {
        if let zlib = engine as? ZlibEngine, zlib.isResumed, kind != .zlib {
            engine = try InflateEngines.make(kind, path: file.path, live: live)  // the member resumed in has ended
        }
        try engine.reset()
        dropInput(resumeAt: offset)
        memberStart = offset
        memberDecodedStart = engineOffset
        discard = 0  // what zlib could not decode again of a damaged member is gone with it
        // Finite decoders are never resumed mid-file: keep only the current member's start.
        let point = ResumePoint(fileOffset: offset, decodedOffset: engineOffset)
        if live { memberStarts.append(point) } else { memberStarts = [point] }
        state = .inMember
    }

    /// At a member boundary: a new member, zero padding to the end, the end, or garbage.
    /// False when there is nothing to decode now.
    func startNextMember(at offset: Int) throws(InputError) -> Bool {
        var head: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        let n = try withUnsafeMutableBytes(of: &head) { (b) throws(InputError) -> Int in try file.read(at: offset, into: b) }
        if n >= 3 && (head.0, head.1, head.2) == (0x1f, 0x8b, 0x08) {
            if n == 4 && Self.hasValidFlags(head.3) {
                try beginMember(at: offset)
                return true
            }
            if n == 3 && live { return false }  // a header being written
            // Reserved header flags (or a header cut after its method): zlib rejects such a
            // member and ISA-L would not; judged here, so both builds agree.
            damage.append(DecodeDamage(path: file.path, kind: n == 4 ? .corruptMember : .truncatedMember, offset: offset, resumedAt: nil))
            headerRejected = true
            state = .resync(from: offset + 1)
            return try resync(from: offset + 1)
        }
        if try isZeroToEnd(from: offset) {
            // The end, or zero padding; a live file may still get a member after it. A clean
            // end is where a member appended later would start: a checkpoint goes on from
            // there (`resumePoint`), and a follower may close the file and open it there again.
            if !live {
                state = .done
                memberStarts = [ResumePoint(fileOffset: offset, decodedOffset: engineOffset)]
            } else if memberStarts.last.map({ $0.fileOffset < offset }) ?? true {
                memberStarts.append(ResumePoint(fileOffset: offset, decodedOffset: engineOffset))
            }
            return false
        }
        if live && n < 3 && (n < 1 || head.0 == 0x1f) && (n < 2 || head.1 == 0x8b) {
            return false  // a header being written
        }
        damage.append(DecodeDamage(path: file.path, kind: .garbage, offset: offset, resumedAt: nil))
        state = .resync(from: offset + 1)
        return try resync(from: offset + 1)
    }

    /// Looks for the next member header from `from`; false when there is none (yet).
    func resync(from: Int) throws(InputError) -> Bool {
        if let next = try findHeader(from: from) {
            if let last = damage.indices.last, damage[last].resumedAt == nil { damage[last].resumedAt = next }
            try beginMember(at: next)
            return true
        }
        if live {
            state = .resync(from: max(from, file.size - 3))  // a header may be coming in
        } else {
            state = .done
        }
        return false
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

    /// Whether a gzip header's flag byte is one RFC 1952 allows (bits 5-7 reserved, zero).
    static func hasValidFlags(_ flags: UInt8) -> Bool { flags & 0xE0 == 0 }

    /// The offset of the next member header (`1f 8b 08` and valid flags) at or after
    /// `offset`, scanning in input-sized steps. A live file's last bytes may be a header
    /// still being written: it is found once its flag byte is there.
    func findHeader(from offset: Int) throws(InputError) -> Int? {
        var at = offset
        let step = max(input.count, 64)
        let window = UnsafeMutableRawBufferPointer.allocate(byteCount: step + 3, alignment: 1)
        defer { window.deallocate() }
        while true {
            let n = try file.read(at: at, into: window)
            if n < 4 {
                // A cut header at the very end of a finite file: found, so that it is reported as cut.
                if !live && n == 3 && window[0] == 0x1f && window[1] == 0x8b && window[2] == 0x08 { return at }
                return nil
            }
            var i = 0
            while i + 3 < n {
                if window[i] == 0x1f && window[i + 1] == 0x8b && window[i + 2] == 0x08 && Self.hasValidFlags(window[i + 3]) { return at + i }
                i += 1
            }
            at += n - 3
        }
    }
}
