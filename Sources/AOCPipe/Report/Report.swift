/// One reported window: an hour, a day, or the whole run.
public struct WindowReport: Sendable, Equatable {
    /// UTC seconds of the window's start and end.
    public var start: Int
    public var end: Int
    /// Offset of the report zone at the start (for rendering local times).
    public var startOffset: Int
    /// Offset at the end: a day or hour can end in another offset than it started (DST).
    public var endOffset: Int
    public var counters: Counters
    public var freeze: FreezeStats
    public var isFinal: Bool
}

/// Everything a run produced: the windows and the input accounting. Renderers read only this.
public struct Report: Sendable {
    public var pipeline: String
    public var zone: Zone
    /// Latest event time seen (UTC seconds), nil when nothing was counted.
    public var watermark: Int?
    public var totals: WindowReport
    public var days: [WindowReport]
    public var hours: [WindowReport]
    public var input: InputStats
    /// Per source name, in pipeline order.
    public var sources: [(name: String, stats: InputStats)]
    /// Follow: `last_60m`, `last_24h` (whole minutes up to the watermark's) and `today`.
    public var rolling: [(name: String, window: WindowReport)] = []

    /// Builds the windows from merged counts: hours as counted, days as the sum of the hours
    /// that start on each local date, the latency join done once over all input.
    public init(pipeline: String, zone: Zone, aggregate: consuming PartialAggregate, input: InputStats,
                sources: [(name: String, stats: InputStats)], slaMillis: Int, latenessMillis: Int,
                fillGapsMillis: Int = Defaults.fillGapsMillis) {
        self.pipeline = pipeline
        self.zone = zone
        self.input = input
        self.sources = sources
        var cursor = Zone.Cursor(zone: zone)

        let watermark = aggregate.maxMillis == Int.min ? nil : CivilTime.floorDiv(aggregate.maxMillis, 1000)

        // Latency join: each frozen event against its case's earliest report. The join is
        // taken out of the aggregate and consumed: when the caller hands over its only copy
        // (batch), the join works in place in the memory that held the events.
        // Follow's rolling windows (last 60 minutes, last 24 hours) need times, not hours.
        let recentFrom = aggregate.tracksMinutes && watermark != nil
            ? (CivilTime.floorDiv(watermark!, 60) - 24 * 60 + 1) * 60_000 : Int.max
        let joined = aggregate.takeJoin().joined(zone: zone, recentFrom: recentFrom)
        self.input.unmatched += joined.unmatched

        self.watermark = watermark
        let finalBefore = watermark.map { $0 - latenessMillis / 1000 } ?? Int.min

        // Hours, in time order. Each window's latencies are a stretch of `joined.latencies`
        // (`groups`: hours, then days, then the total), summarised all at once on every core
        // at the end.
        var groups: [Range<Int>] = []
        let order = aggregate.hourStarts.indices.sorted { aggregate.hourStarts[$0] < aggregate.hourStarts[$1] }
        var hours: [WindowReport] = []
        var dayOf: [(day: Int, hour: Int)] = []
        for k in order {
            let start = aggregate.hourStarts[k]
            let offset = cursor.offset(utc: start)
            let end = start + 3600
            groups.append(joined.hour(startingAt: start))
            hours.append(WindowReport(start: start, end: end, startOffset: offset, endOffset: cursor.offset(utc: end),
                                      counters: aggregate.hourCounters[k], freeze: FreezeStats(), isFinal: end <= finalBefore))
            dayOf.append((CivilTime.floorDiv(start + offset, 86_400), hours.count - 1))
        }

        // Days: local dates, from the first local midnight to the next (23 or 25 h under DST).
        // A day without records between days with records is a zero window when the gap is
        // at most `fillGapsMillis`; a longer gap is left out, so the windows are bounded by
        // the data, never by the span of its dates.
        var days: [WindowReport] = []
        var totals = Counters()
        var i = 0
        let fillDays = fillGapsMillis / 86_400_000
        if var day = dayOf.first?.day {
            while true {
                var counters = Counters()
                while i < dayOf.count && dayOf[i].day <= day {
                    counters += hours[dayOf[i].hour].counters
                    i += 1
                }
                let start = zone.utc(local: day * 86_400)
                let end = zone.utc(local: (day + 1) * 86_400)
                totals += counters
                groups.append(joined.stretch(from: start, to: end))
                days.append(WindowReport(start: start, end: end, startOffset: cursor.offset(utc: start),
                                         endOffset: cursor.offset(utc: end), counters: counters,
                                         freeze: FreezeStats(), isFinal: end <= finalBefore))
                guard i < dayOf.count else { break }
                let next = dayOf[i].day
                day = next - day - 1 > fillDays ? next : day + 1
            }
        }
        let first = days.first?.start ?? 0
        let last = days.last?.end ?? first
        groups.append(joined.stretch(from: first, to: last))
        let stats = FreezeStats.summaries(of: groups, in: joined.latencies, slaMillis: slaMillis)
        for k in hours.indices { hours[k].freeze = stats[k] }
        for k in days.indices { days[k].freeze = stats[hours.count + k] }
        self.hours = hours
        self.days = days
        self.totals = WindowReport(start: first, end: last, startOffset: cursor.offset(utc: first), endOffset: cursor.offset(utc: last),
                                   counters: totals, freeze: stats[stats.count - 1],
                                   isFinal: days.allSatisfy(\.isFinal))
        if aggregate.tracksMinutes, let watermark, let today = days.last {
            let minute = CivilTime.floorDiv(watermark, 60)
            func rollingWindow(minutes: Int) -> WindowReport {
                let start = (minute - minutes + 1) * 60, end = (minute + 1) * 60
                let latencies = joined.latencies(from: start * 1000, to: end * 1000)
                return WindowReport(start: start, end: end, startOffset: cursor.offset(utc: start),
                                    endOffset: cursor.offset(utc: end),
                                    counters: aggregate.counters(minutes: minute - minutes + 1, through: minute),
                                    freeze: FreezeStats(latencies: latencies, slaMillis: slaMillis), isFinal: false)
            }
            rolling = [("last_60m", rollingWindow(minutes: 60)), ("last_24h", rollingWindow(minutes: 24 * 60)), ("today", today)]
        }
    }
}

extension Report {
    /// The same report with only the hours and days that end within `horizonMillis` of the
    /// watermark (Prometheus: a series per window, so the windows shown are bounded).
    public func within(horizonMillis: Int) -> Report {
        guard let watermark else { return self }
        let from = watermark - horizonMillis / 1000
        var r = self
        r.hours = hours.filter { $0.end > from }
        r.days = days.filter { $0.end > from }
        return r
    }
}

extension Report {
    /// A run's report, assembled the same way in every mode: the pipeline's name, zone, SLA
    /// and lateness, the merged aggregate, and each source's stats (pipeline order), whose sum
    /// is `input`. Damage is listed by file and offset.
    public init(config: PipelineConfig, aggregate: consuming PartialAggregate, sources: [InputStats]) {
        var perSource = sources
        for i in perSource.indices { perSource[i].damage.sort { ($0.path, $0.offset) < ($1.path, $1.offset) } }
        var total = InputStats()
        for s in perSource { total += s }
        self.init(pipeline: config.name, zone: config.zone, aggregate: aggregate, input: total,
                  sources: zip(config.sources, perSource).map { ($0.name, $1) },
                  slaMillis: config.slaMillis, latenessMillis: config.latenessMillis, fillGapsMillis: config.fillGapsMillis)
    }
}
