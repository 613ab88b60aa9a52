/// One hotline line with a call key, as `CallSegment.observe` takes it: 16 bytes.
struct CallObservation: Sendable, Equatable {
    var key: UInt64
    /// Start in milliseconds << 1 | answers the call.
    var packed: Int

    init(_ event: Event) {
        key = event.callKey
        packed = CallTable.pack(millis: event.millis, answered: event.answered)
    }

    init(key: UInt64, millis: Int, answered: Bool) {
        self.key = key
        packed = CallTable.pack(millis: millis, answered: answered)
    }

    var millis: Int { CallTable.millis(packed) }
    var answered: Bool { CallTable.answered(packed) }
}

/// Hotline calls of one stretch of one source's lines (docs/FORMATS.md, "Calls"): a call is a
/// distinct key among the source's hotline lines, counted in the hour of its earliest `start`,
/// answered if any of its lines answers it.
///
/// Lines of one call arrive up to `lateness` apart (a caller's lines when the caller hangs up,
/// a Local leg when it ends), so a call stays *open* (its key kept, its hour still movable)
/// while its earliest start is within `lateness` of the segment's watermark (the latest start
/// seen), then it is *closed*: its key is forgotten and its count stays where it is. A line
/// older than the watermark by more than `lateness` is late: counted in `late`, never as a call.
/// Memory grows with the calls inside that horizon, not with the input.
///
/// Counts go into the aggregate handed in, as they change (a new call, a call moved to an
/// earlier hour, a call turned answered), so a report at any moment sees every open call.
///
/// A segment can be read on its own (a file, a buffer of a file, a follower's poll) and then
/// appended to the one before it in the stream (`append`): the later one's calls that are the
/// earlier one's open calls are merged, the double count taken back. For that, a segment keeps
/// the keys of the calls near its start even once closed (`head`: earliest start within twice
/// `lateness` of its first line), the only ones an earlier segment's open calls can share.
struct CallSegment: Sendable {
    let lateness: Int
    /// Calls still open.
    private(set) var open = CallTable()
    /// Closed calls near the segment's start (see above).
    private(set) var head = CallTable()
    /// Start (ms) of the first line counted, nil before any.
    private(set) var firstStart: Int?
    /// The latest start counted (ms).
    private(set) var watermark = Int.min
    /// The open calls in the order they opened, with their first start: the oldest are
    /// closed from the front as the watermark moves (`closeOld`). An entry whose call has
    /// closed since, or whose key opened a new call, is passed over.
    private var opened: [(key: UInt64, millis: Int)] = []
    private var openedFront = 0
    /// Lines (and, when segments were appended, calls) dropped as late.
    var late = 0

    init(lateness: Int) { self.lateness = max(lateness, 0) }

    var isEmpty: Bool { firstStart == nil && late == 0 }
    var openCount: Int { open.count }

    /// Lines in stream order (what one reader going through the source reads). A few at a
    /// time: their slots are read first, all at once, so the cache misses overlap.
    mutating func observe(_ lines: [CallObservation], into counts: inout PartialAggregate) {
        lines.withUnsafeBufferPointer { lines in
            var i = 0
            while i < lines.count {
                let end = min(i + 8, lines.count)
                var touched: UInt64 = 0
                for k in i..<end { touched ^= open.touch(lines[k].key) }
                self.touched ^= touched
                for k in i..<end { observe(key: lines[k].key, millis: lines[k].millis, answered: lines[k].answered, into: &counts) }
                i = end
            }
        }
    }

    /// What `touch` read, kept so that the reads are not optimised away.
    private var touched: UInt64 = 0

    /// One hotline line of call `key` (never 0) starting at `millis`. A call is open while its
    /// earliest start is at least the watermark less `lateness`, however soon its key is
    /// forgotten after: so the count depends on the lines and their order only.
    @inline(__always)
    mutating func observe(key: UInt64, millis: Int, answered: Bool, into counts: inout PartialAggregate) {
        if watermark != Int.min && millis < watermark - lateness {
            late += 1
            return
        }
        if firstStart == nil { firstStart = millis }
        let advanced = millis > watermark
        if advanced { watermark = millis }
        counts.noteTime(millis)
        var slot = open.find(key)
        if slot >= 0 && CallTable.millis(open.value(at: slot)) < watermark - lateness {
            // The same key on a call closed since: that one stays as it was, this is a new call.
            closeCall(key)
            slot = open.find(key)
        }
        if slot >= 0 {
            let v = open.value(at: slot)
            let earliest = CallTable.millis(v), wasAnswered = CallTable.answered(v)
            if millis < earliest {
                counts.countCall(at: earliest, calls: -1, answered: wasAnswered ? -1 : 0)
                counts.countCall(at: millis, calls: 1, answered: wasAnswered || answered ? 1 : 0)
                open.setValue(CallTable.pack(millis: millis, answered: wasAnswered || answered), at: slot)
            } else if answered && !wasAnswered {
                counts.countCall(at: earliest, calls: 0, answered: 1)
                open.setValue(CallTable.pack(millis: earliest, answered: true), at: slot)
            }
        } else {
            open.insert(key, CallTable.pack(millis: millis, answered: answered), emptySlot: -slot - 1)
            opened.append((key, millis))
            counts.countCall(at: millis, calls: 1, answered: answered ? 1 : 0)
        }
        if advanced { closeOld() }
    }

    /// Closes the open calls the watermark has moved `lateness` past, oldest first: a lookup
    /// a call (a sweep over the whole table instead streams it through the cache every time,
    /// which measured slower), none while nothing is old enough.
    @inline(__always)
    private mutating func closeOld() {
        let cutoff = watermark - lateness
        // Eight at a time, their slots read ahead together (see `observe`): calls stay open a
        // few calls longer than they must (`observe` treats them as closed).
        guard openedFront + 8 <= opened.count && opened[openedFront + 7].millis < cutoff else { return }
        var touched: UInt64 = 0
        for k in openedFront..<(openedFront + 8) { touched ^= open.touch(opened[k].key) }
        self.touched ^= touched
        while openedFront < opened.count && opened[openedFront].millis < cutoff {
            let key = opened[openedFront].key
            openedFront += 1
            let slot = open.find(key)
            // Still this call (a call's earliest start only moves back): it closes.
            if slot >= 0 && CallTable.millis(open.value(at: slot)) < cutoff { closeCall(key) }
        }
        if openedFront > 4096 && openedFront * 2 > opened.count {
            opened.removeFirst(openedFront)
            openedFront = 0
        }
    }

    /// Forgets an open call's key, keeping it in `head` if the call is near the start.
    private mutating func closeCall(_ key: UInt64) {
        guard let v = open.remove(key) else { return }
        if let first = firstStart, CallTable.millis(v) <= first + 2 * lateness { head.set(key, v) }
    }

    /// Closes every open call whose earliest start is before `cutoff`, and lists the rest in
    /// the order they opened (after segments were joined, and after a checkpoint is read).
    private mutating func close(before cutoff: Int) {
        if let first = firstStart {
            for slot in open.removeCalls(startedBefore: cutoff, returning: first + 2 * lateness) { head.set(slot.key, slot.value) }
        }
        var kept: [(key: UInt64, millis: Int)] = []
        kept.reserveCapacity(open.count)
        open.forEach { key, v in kept.append((key, CallTable.millis(v))) }
        opened = kept.sorted { ($0.millis, $0.key) < ($1.millis, $1.key) }
        openedFront = 0
    }

    /// Appends `later`, the segment of the lines that follow this one's in the stream. Its
    /// calls that are this segment's open calls become one call (in the earlier hour, answered
    /// if either was), the double count taken back in `counts`; its calls older than this
    /// segment's horizon are late. Then the calls the later watermark has passed are closed.
    mutating func append(_ later: consuming CallSegment, into counts: inout PartialAggregate) {
        guard firstStart != nil else {
            let lateBefore = late
            self = later
            late += lateBefore
            return
        }
        late += later.late
        guard later.firstStart != nil else { return }
        let cutoff = watermark - lateness

        // The later segment's calls that can be ours: its open ones and its head. Each either
        // continues one of our open calls, or is late, or is new.
        func settle(_ key: UInt64, _ v: Int) -> Int? {
            let y = CallTable.millis(v), yAnswered = CallTable.answered(v)
            if let x = open[key], CallTable.millis(x) >= cutoff {
                open.remove(key)
                let xm = CallTable.millis(x), xAnswered = CallTable.answered(x)
                counts.countCall(at: xm, calls: -1, answered: xAnswered ? -1 : 0)
                counts.countCall(at: y, calls: -1, answered: yAnswered ? -1 : 0)
                let both = xAnswered || yAnswered
                counts.countCall(at: min(xm, y), calls: 1, answered: both ? 1 : 0)
                return CallTable.pack(millis: min(xm, y), answered: both)
            }
            if y < cutoff {
                counts.countCall(at: y, calls: -1, answered: yAnswered ? -1 : 0)
                late += 1
                return nil
            }
            return v
        }
        var laterOpen = CallTable(capacity: later.open.count)
        later.open.forEach { k, v in if let s = settle(k, v) { laterOpen.insert(k, s) } }
        let headEnd = firstStart! + 2 * lateness
        later.head.forEach { k, v in
            // A closed call of the later segment: kept as ours if it is near our start.
            if let s = settle(k, v), CallTable.millis(s) <= headEnd { head.set(k, s) }
        }
        laterOpen.forEach { k, v in open.set(k, v) }
        watermark = max(watermark, later.watermark)
        close(before: watermark - lateness)
    }

    /// Segments of one source read apart (batch: a file each, in any order) as one stream:
    /// put in order of their first line's start and appended one to the other. Also returns
    /// the segments (by index) that start more than `lateness` before the ones before them
    /// end: overlapping logs (two copies of one?), whose calls in both may count twice, as
    /// only the edges of segments are joined.
    static func joined(_ segments: [CallSegment], lateness: Int,
                       into counts: inout PartialAggregate) -> (stream: CallSegment, overlapping: [Int]) {
        let ordered = segments.enumerated().sorted { a, b in
            (a.element.firstStart ?? .min, a.element.watermark, a.offset) < (b.element.firstStart ?? .min, b.element.watermark, b.offset)
        }
        var stream = CallSegment(lateness: lateness)
        var overlapping: [Int] = []
        for (k, s) in ordered {
            if let first = s.firstStart, stream.watermark != Int.min, first < stream.watermark - lateness { overlapping.append(k) }
            stream.append(s, into: &counts)
        }
        return (stream, overlapping)
    }

    /// The same calls in as little memory as they need, for keeping while other files are
    /// read (batch): tables sized to their entries, the queue of opened calls given back
    /// (rebuilt when the segment is joined).
    func compacted() -> CallSegment {
        var c = self
        c.open = CallTable(copying: open)
        c.head = CallTable(copying: head)
        c.opened = []
        c.openedFront = 0
        return c
    }

    /// Forgets the closed calls kept for an earlier segment (follow's state is the earliest).
    mutating func forgetHead() { if !head.isEmpty { head = CallTable() } }
}

extension CallSegment {
    /// A segment's content as plain values: what the checkpoint's journal diffs from one
    /// record to the next and replays, building the segment once at the end.
    struct Parts: Sendable, Equatable {
        var lateness: Int
        var firstStart: Int?
        var watermark: Int
        var late: Int
        var open: [UInt64: Int]
        var head: [UInt64: Int]
    }

    var parts: Parts {
        var open: [UInt64: Int] = [:], head: [UInt64: Int] = [:]
        open.reserveCapacity(self.open.count)
        self.open.forEach { open[$0] = $1 }
        self.head.forEach { head[$0] = $1 }
        return Parts(lateness: lateness, firstStart: firstStart, watermark: watermark, late: late, open: open, head: head)
    }

    init(parts: Parts) {
        self.init(lateness: parts.lateness)
        firstStart = parts.firstStart
        watermark = parts.watermark
        late = parts.late
        open = CallTable(capacity: parts.open.count)
        for (key, value) in parts.open { open.insert(key, value) }
        for (key, value) in parts.head { head.insert(key, value) }
        close(before: Int.min)  // closes none: lists the open calls for `closeOld`
    }

    func encode(_ w: inout ByteWriter) {
        w.int(lateness)
        w.bool(firstStart != nil)
        w.int(firstStart ?? 0)
        w.int(watermark)
        w.int(late)
        for table in [open, head] {
            let entries = table.sortedEntries
            w.int(entries.count)
            for e in entries { w.fixed64(e.key); w.int(e.value) }
        }
    }

    static func decode(_ r: inout ByteReader) throws(ByteReader.Truncated) -> CallSegment {
        // Times and counts within bounds (`ByteReader.time`), so a damaged state cannot overflow.
        var s = CallSegment(lateness: try r.time())
        guard s.lateness >= 0 else { throw ByteReader.Truncated() }
        let hasFirst = try r.bool()
        let first = try r.time()
        s.firstStart = hasFirst ? first : nil
        s.watermark = try r.time(sentinel: true)
        s.late = try r.tally()
        for which in 0..<2 {
            var table = CallTable()
            for _ in 0..<(try r.count()) {
                let key = try r.fixed64()
                guard key != 0, table[key] == nil else { throw ByteReader.Truncated() }
                let value = try r.int()
                guard ByteReader.times.contains(CallTable.millis(value)) else { throw ByteReader.Truncated() }
                table.insert(key, value)
            }
            if which == 0 { s.open = table } else { s.head = table }
        }
        s.close(before: Int.min)  // closes none: lists the open calls for `closeOld`
        return s
    }
}
