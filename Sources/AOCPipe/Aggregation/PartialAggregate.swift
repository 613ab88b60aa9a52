/// What one worker counts: hour windows of the report zone, and the raw material of the
/// freeze-latency join. Owned by one worker (no locks); partials merge at the end.
///
/// Hours are keyed by the UTC instant at which the local hour starts, so a repeated local
/// hour (DST fall-back) is two windows and +05:30/+05:45 zones start hours at :30/:15 UTC.
/// The window of the last record is cached: logs are nearly time-ordered, so most records
/// skip the dictionary.
public struct PartialAggregate: Sendable {
    /// Hour windows, in first-seen order; `hourIndex` maps a start to its position.
    public internal(set) var hourStarts: [Int] = []
    public internal(set) var hourCounters: [Counters] = []
    var hourIndex: [Int: Int] = [:]

    /// Every `reported` and `frozen` event, joined when a report is built.
    var join = LatencyJoin()
    /// Latest event time seen (ms).
    public internal(set) var maxMillis = Int.min

    var cursor: Zone.Cursor
    var cachedLow = 1, cachedHigh = 0, cachedIndex = 0

    /// Follow: counts per minute of the last day, for the rolling windows (last 60 minutes,
    /// last 24 hours). Off in batch, where nothing rolls.
    public let tracksMinutes: Bool
    /// Minute (UTC seconds / 60) -> counts; kept for `rollingSpanMinutes` before the watermark.
    var minuteCounters: [Int: Counters] = [:]
    static let rollingSpanMinutes = 25 * 60
    /// The minute records are being counted in, not yet in `minuteCounters` (one dictionary
    /// lookup per minute, not per record): `flushMinute` puts it there; `take` and `merge` do.
    var openMinute = Int.min
    var openMinuteCounts = Counters()

    /// Follow: what happened to the join since the checkpoint last written, in order, for its
    /// journal (`CheckpointJournal`); nil (batch, workers): not recorded.
    var joinChanges: [JoinChange]?

    public init(reportZone: Zone, tracksMinutes: Bool = false) {
        cursor = Zone.Cursor(zone: reportZone)
        self.tracksMinutes = tracksMinutes
    }

    public mutating func add(_ event: Event) {
        let second = CivilTime.floorDiv(event.millis, 1000)
        let i: Int
        if second >= cachedLow && second < cachedHigh {
            i = cachedIndex
        } else {
            i = window(containing: second)
        }
        hourCounters[i].count(event)
        if tracksMinutes {
            let minute = CivilTime.floorDiv(second, 60)
            if minute != openMinute { openMinuteAt(minute) }
            openMinuteCounts.count(event)
        }
        if event.millis > maxMillis { maxMillis = event.millis }
        switch event.kind {
        case .reported:
            join.report(event.caseKey, event.millis)
        case .frozen:
            join.freeze(event.caseKey, event.millis)
        default: break
        }
    }

    /// Adds `calls` calls (`answered` of them answered; either may be negative: a call moved
    /// or merged away) in the windows of the instant `millis` (`CallSegment`).
    @inline(__always)
    mutating func countCall(at millis: Int, calls: Int, answered: Int) {
        let second = CivilTime.floorDiv(millis, 1000)
        let i = second >= cachedLow && second < cachedHigh ? cachedIndex : window(containing: second)
        hourCounters[i].lanes[0] &+= calls
        hourCounters[i].lanes[Counters.answeredLane] &+= answered
        if tracksMinutes {
            let minute = CivilTime.floorDiv(second, 60)
            if minute != openMinute { openMinuteAt(minute) }
            openMinuteCounts.lanes[0] &+= calls
            openMinuteCounts.lanes[Counters.answeredLane] &+= answered
        }
    }

    /// Puts the open minute's counts into `minuteCounters` and opens `minute`.
    mutating func openMinuteAt(_ minute: Int) {
        if openMinute != Int.min { minuteCounters[openMinute, default: Counters()] += openMinuteCounts }
        openMinute = minute
        openMinuteCounts = Counters()
    }

    /// Every minute's counts in `minuteCounters` (before they are read).
    mutating func flushMinute() {
        guard openMinute != Int.min else { return }
        openMinuteAt(Int.min)
    }

    /// A record at `millis` was counted: the watermark moves.
    @inline(__always)
    mutating func noteTime(_ millis: Int) {
        if millis > maxMillis { maxMillis = millis }
    }

    /// Finds or creates the hour window holding `second`, and caches it.
    mutating func window(containing second: Int) -> Int {
        // The cache must not outlive the offset range it was computed in: `hour` says how far.
        let hour = cursor.hour(containing: second)
        let i = index(ofHourStarting: hour.start)
        cachedLow = hour.low
        cachedHigh = hour.high
        cachedIndex = i
        return i
    }

    /// The position of the hour window starting at `start`, created empty if new.
    mutating func index(ofHourStarting start: Int) -> Int {
        if let found = hourIndex[start] { return found }
        let i = hourCounters.count
        hourIndex[start] = i
        hourStarts.append(start)
        hourCounters.append(Counters())
        return i
    }

    /// This aggregate, leaving an empty one (same zone, same minute tracking) in its place:
    /// the caller then holds the only copy, which merges by moving its memory, not copying it.
    public mutating func take() -> PartialAggregate {
        flushMinute()
        let taken = self
        self = PartialAggregate(reportZone: cursor.zone, tracksMinutes: tracksMinutes)
        return taken
    }

    /// Reports and freezes held for the latency join.
    var joinRecordCount: Int { join.reportCount + join.freezeCount }

    /// The join, leaving an empty one in its place (the caller then holds the only copy).
    mutating func takeJoin() -> LatencyJoin {
        let taken = join
        join = LatencyJoin()
        return taken
    }

    /// Follow: adds `other` but only windows that end after `cutoff` (UTC seconds); the records
    /// of older windows are returned as late-dropped. The watermark moves first, so a batch of
    /// new records can expire older ones of its own.
    public mutating func merge(_ other: PartialAggregate, retentionMillis: Int) -> Int {
        maxMillis = max(maxMillis, other.maxMillis)
        guard maxMillis != Int.min else { return 0 }
        let cutoff = CivilTime.floorDiv(maxMillis - retentionMillis, 1000)
        var dropped = 0
        var kept = other
        for (k, start) in other.hourStarts.enumerated() where start + 3600 <= cutoff {
            dropped += other.hourCounters[k].records
        }
        if dropped > 0 { kept.expire(before: cutoff) }
        merge(kept)
        expire(before: cutoff)
        return dropped
    }

    /// Releases windows that end at or before `cutoff` (UTC seconds), with their freeze events.
    public mutating func expire(before cutoff: Int) {
        guard hourStarts.contains(where: { $0 + 3600 <= cutoff }) else { return }
        keepHours { $0 + 3600 > cutoff }
        // Frozen events go with their hour window: before the first hour kept.
        let reportsBefore = cutoff * 1000, freezesBefore = (hourStarts.min() ?? cutoff) * 1000
        join.expire(reportsBefore: reportsBefore, freezesBefore: freezesBefore)
        joinChanges?.append(.expired(reportsBefore: reportsBefore, freezesBefore: freezesBefore))
    }

    /// Drops the hour windows whose start `keep` refuses, in order (the join is the caller's).
    mutating func keepHours(where keep: (Int) -> Bool) {
        var starts: [Int] = [], counters: [Counters] = []
        for (k, start) in hourStarts.enumerated() where keep(start) {
            starts.append(start)
            counters.append(hourCounters[k])
        }
        hourStarts = starts
        hourCounters = counters
        hourIndex = Dictionary(uniqueKeysWithValues: starts.enumerated().map { ($1, $0) })
        cachedLow = 1; cachedHigh = 0
    }

    /// Adds another worker's counts into this one.
    public mutating func merge(_ other: consuming PartialAggregate) {
        flushMinute()
        other.flushMinute()
        for (k, start) in other.hourStarts.enumerated() {
            hourCounters[index(ofHourStarting: start)] += other.hourCounters[k]
        }
        if joinChanges != nil, other.joinRecordCount > 0 {
            joinChanges!.append(.added(reports: other.join.reportEntries(), freezes: other.join.freezeEntries()))
        }
        join.merge(other.takeJoin())
        maxMillis = max(maxMillis, other.maxMillis)
        cachedLow = 1; cachedHigh = 0
        guard tracksMinutes else { return }
        let first = CivilTime.floorDiv(maxMillis, 60_000) - Self.rollingSpanMinutes
        for (minute, c) in other.minuteCounters where minute > first { minuteCounters[minute, default: Counters()] += c }
        if minuteCounters.count > Self.rollingSpanMinutes + 60 { minuteCounters = minuteCounters.filter { $0.key > first } }
    }

    /// Counts of the minutes from `firstMinute` through `lastMinute` (follow only).
    func counters(minutes firstMinute: Int, through lastMinute: Int) -> Counters {
        var c = Counters()
        if openMinute != Int.min && openMinute >= firstMinute && openMinute <= lastMinute { c += openMinuteCounts }
        if lastMinute - firstMinute < minuteCounters.count {
            for m in firstMinute...lastMinute { if let x = minuteCounters[m] { c += x } }
        } else {
            for (m, x) in minuteCounters where m >= firstMinute && m <= lastMinute { c += x }
        }
        return c
    }
}

/// What happened to the freeze-latency join, in order (`PartialAggregate.joinChanges`): the
/// checkpoint's journal replays it exactly (an expiry depends on what was added before it).
enum JoinChange: Sendable {
    case added(reports: [(key: CaseKey, millis: Int)], freezes: [(key: CaseKey, millis: Int)])
    case expired(reportsBefore: Int, freezesBefore: Int)
}
