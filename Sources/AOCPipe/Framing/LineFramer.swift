#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Receives what a `LineFramer` finds.
public protocol LineSink {
    /// One line without its terminator (`\n` or `\r\n`); `offset` is where it starts in the
    /// decoded stream. The bytes are valid only during the call.
    mutating func line(_ bytes: UnsafeRawBufferPointer, offset: Int)
    /// A line that could not be delivered whole: over the length limit, or cut by damage.
    mutating func brokenLine(_ reason: MalformedReason, offset: Int)
}

/// Splits decoded chunks into lines with `memchr`, carrying a partial line across chunks.
///
/// A line longer than `maxLineBytes` is reported once as `line_too_long` and skipped: its bytes
/// are never buffered nor rescanned, so cost stays linear however long it is.
public struct LineFramer: ~Copyable {
    public let maxLineBytes: Int
    let carry: UnsafeMutableRawBufferPointer
    var carryCount = 0
    /// Inside a line already known to be too long: drop bytes up to its newline.
    var discarding = false
    /// Decoded offset of the first byte of the pending (carried or discarded) line.
    var pendingOffset = 0
    /// Decoded offset of the next byte to be fed.
    public private(set) var offset = 0
    /// Lines delivered or reported, including blank ones.
    public private(set) var lines = 0

    /// `startOffset`: the decoded offset of the first byte fed (when resuming mid-file).
    public init(maxLineBytes: Int, startOffset: Int = 0) {
        self.maxLineBytes = max(maxLineBytes, 1)
        offset = startOffset
        // Room for a maximal line plus a `\r` that is stripped.
        carry = .allocate(byteCount: self.maxLineBytes + 1, alignment: 16)
    }

    deinit { carry.deallocate() }

    /// Forgets any partial line and goes on at decoded offset `offset` (a new run of whole
    /// lines, as `cut` hands them out). `lines` keeps counting.
    public mutating func restart(at offset: Int) {
        self.offset = offset
        carryCount = 0
        discarding = false
    }

    public var hasPartialLine: Bool { carryCount > 0 || discarding }

    /// The decoded offset up to which every line has been delivered or reported: where to
    /// start again to see the same remaining lines (a held-back partial line included).
    public var committedOffset: Int { hasPartialLine ? pendingOffset : offset }

    public mutating func feed<S: LineSink>(_ chunk: UnsafeRawBufferPointer, into sink: inout S) {
        guard let base = chunk.baseAddress, chunk.count > 0 else { return }
        let n = chunk.count
        var i = 0
        while i < n {
            let nl = memchr(base + i, 0x0A, n - i)
            guard let nl else {
                // No newline in the rest of the chunk: carry it, unless the line is now too long.
                let rest = n - i
                if discarding { break }
                if carryCount == 0 { pendingOffset = offset + i }
                if carryCount + rest > maxLineBytes + 1 {
                    discarding = true
                    carryCount = 0
                } else {
                    (carry.baseAddress! + carryCount).copyMemory(from: base + i, byteCount: rest)
                    carryCount += rest
                }
                break
            }
            let end = base.distance(to: UnsafeRawPointer(nl))
            if discarding {
                discarding = false
                lines += 1
                sink.brokenLine(.lineTooLong, offset: pendingOffset)
            } else if carryCount > 0 {
                let piece = end - i
                if carryCount + piece > maxLineBytes + 1 {
                    lines += 1
                    sink.brokenLine(.lineTooLong, offset: pendingOffset)
                } else {
                    (carry.baseAddress! + carryCount).copyMemory(from: base + i, byteCount: piece)
                    deliver(UnsafeRawBufferPointer(start: carry.baseAddress, count: carryCount + piece),
                            offset: pendingOffset, into: &sink)
                }
                carryCount = 0
            } else {
                deliver(UnsafeRawBufferPointer(start: base + i, count: end - i), offset: offset + i, into: &sink)
            }
            i = end + 1
        }
        offset += n
    }

    /// The decoded stream broke (damaged gzip): a pending partial line is lost.
    public mutating func gap<S: LineSink>(into sink: inout S) {
        if carryCount > 0 || discarding {
            lines += 1
            sink.brokenLine(discarding ? .lineTooLong : .truncated, offset: pendingOffset)
        }
        carryCount = 0
        discarding = false
    }

    /// End of input: a last line without a newline is still a line.
    public mutating func finish<S: LineSink>(into sink: inout S) {
        if discarding {
            lines += 1
            sink.brokenLine(.lineTooLong, offset: pendingOffset)
        } else if carryCount > 0 {
            deliver(UnsafeRawBufferPointer(start: carry.baseAddress, count: carryCount), offset: pendingOffset, into: &sink)
        }
        carryCount = 0
        discarding = false
    }

    // MARK: Cutting a stream into buffers of whole lines

    /// One file on several threads: the decoding thread cuts the stream into buffers of whole
    /// lines that any parser can frame on its own, with the same partial-line rules as `feed`
    /// (this framer's state is the one partial-line machine of the code base). For each buffer:
    /// `prepend(into:)` puts the held partial line in front, new bytes are decoded behind it,
    /// then `cut` says which bytes are whole lines and holds the new partial line.

    /// Copies the held partial line to the front of `buffer` (which has room for a maximal
    /// line); returns its length and the decoded offset of `buffer`'s first byte.
    public func prepend(into buffer: UnsafeMutableRawBufferPointer) -> (count: Int, startOffset: Int) {
        if carryCount > 0 { buffer.baseAddress!.copyMemory(from: carry.baseAddress!, byteCount: carryCount) }
        return (carryCount, carryCount > 0 ? pendingOffset : offset)
    }

    /// After `count` new bytes were decoded into `buffer` behind the `prepend`ed ones: the
    /// range of whole lines (up to the last newline) and their decoded offset. The rest is
    /// held as the partial line, or dropped up to its newline once too long (reported once to
    /// `sink`, as a line cut by a `gap` is).
    public mutating func cut<S: LineSink>(_ buffer: UnsafeMutableRawBufferPointer, count: Int, gap: Bool,
                                          into sink: inout S) -> (lines: Range<Int>, startOffset: Int) {
        let base = buffer.baseAddress!
        let held = carryCount
        let total = held + count
        var begin = 0
        var startOffset = held > 0 ? pendingOffset : offset
        let newStart = offset
        offset += count
        carryCount = 0
        if discarding {
            // Skip to the end of the over-long line.
            guard let nl = memchr(base, 0x0A, total) else {
                if gap { self.gap(into: &sink) }
                return (total..<total, offset)
            }
            discarding = false
            lines += 1
            sink.brokenLine(.lineTooLong, offset: pendingOffset)
            begin = base.distance(to: UnsafeMutableRawPointer(nl)) + 1
            startOffset = newStart + begin
        }
        // Whole lines up to the last newline; the rest is the new partial line.
        var linesEnd = total
        while linesEnd > begin && base.load(fromByteOffset: linesEnd - 1, as: UInt8.self) != 0x0A { linesEnd -= 1 }
        let tail = total - linesEnd
        if tail > 0 {
            pendingOffset = startOffset + (linesEnd - begin)
            if tail > maxLineBytes + 1 {
                discarding = true
            } else {
                carry.baseAddress!.copyMemory(from: base + linesEnd, byteCount: tail)
                carryCount = tail
            }
        }
        if gap { self.gap(into: &sink) }
        return (begin..<linesEnd, startOffset)
    }

    /// End of input while cutting: the held partial line (put in front by `prepend`) is the
    /// last line; one being dropped as too long is reported.
    public mutating func finishCut<S: LineSink>(into sink: inout S) {
        if discarding {
            lines += 1
            sink.brokenLine(.lineTooLong, offset: pendingOffset)
        }
        carryCount = 0
        discarding = false
    }

    @inline(__always)
    mutating func deliver<S: LineSink>(_ raw: UnsafeRawBufferPointer, offset: Int, into sink: inout S) {
        lines += 1
        var count = raw.count
        if count > 0 && raw[count - 1] == 0x0D { count -= 1 }
        if count > maxLineBytes {
            sink.brokenLine(.lineTooLong, offset: offset)
            return
        }
        sink.line(UnsafeRawBufferPointer(start: raw.baseAddress, count: count), offset: offset)
    }
}
