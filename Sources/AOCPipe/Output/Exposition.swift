/// A report as Prometheus metrics: the text exposition format (what `/metrics` and the
/// node_exporter textfile collector read), and OpenMetrics with event-time timestamps (what
/// `promtool tsdb create-blocks-from openmetrics` backfills).
///
/// Window families are gauges (a window's count so far), one series per window, labelled
/// `window` (`hour` or `day`) and `start` (the window's local start: `2023-11-01` for a day,
/// `2023-11-01T08:00:00+07:00` for an hour). Counts and the freeze-duration summary's `_sum`
/// and `_count` add up across a fleet; its quantiles do not (README, "Metrics").
enum Exposition {
    /// The windows and what was read, in the text exposition format (no timestamps).
    static func prometheus(_ r: Report, windows: WindowSelection) -> String {
        var out = ""
        windowFamilies(r, windows: windows, timestamps: false, into: &out)
        rollingFamilies(r, into: &out)
        inputFamilies(r, into: &out)
        return out
    }

    /// The windows in OpenMetrics, each sample at its window's start: for backfilling
    /// reprocessed archives into Prometheus at the hours they happened.
    static func openMetrics(_ r: Report, windows: WindowSelection) -> String {
        var out = ""
        windowFamilies(r, windows: windows, timestamps: true, into: &out)
        out += "# EOF\n"
        return out
    }

    static func windowFamilies(_ r: Report, windows: WindowSelection, timestamps: Bool, into out: inout String) {
        let labelled = Renderer.selected(r, windows).map { (kind, w) in
            Labelled(labels: "window=\"\(kind)\",start=\"\(kind == "day" ? Text.localDate(w.start, offset: w.startOffset) : Text.localTimestamp(w.start, offset: w.startOffset))\"",
                     time: timestamps ? " \(w.start)" : "", window: w)
        }
        families(prefix: "aocpipe_window_", labelled, into: &out)
        let final = "aocpipe_window_final"
        header(final, "gauge", "1 when the window is past the watermark less the allowed lateness: its counts will not change.", into: &out)
        for s in labelled { out += "\(final){\(s.labels)} \(s.window.isFinal ? 1 : 0)\(s.time)\n" }
    }

    /// Follow's rolling windows (`last_60m`, `last_24h`, `today`), labelled `window` only, so
    /// that "today across the fleet" is one `sum`.
    static func rollingFamilies(_ r: Report, into out: inout String) {
        guard !r.rolling.isEmpty else { return }
        families(prefix: "aocpipe_rolling_", r.rolling.map { Labelled(labels: "window=\"\($0.name)\"", time: "", window: $0.window) }, into: &out)
    }

    struct Labelled {
        var labels: String
        var time: String
        var window: WindowReport
    }

    /// The counts, the freeze-duration summary and the within-SLA count of each window.
    static func families(prefix: String, _ labelled: [Labelled], into out: inout String) {
        for metric in Metric.allCases {
            let family = prefix + metric.name
            header(family, "gauge", metric.help, into: &out)
            for s in labelled { out += "\(family){\(s.labels)} \(s.window.counters[metric])\(s.time)\n" }
        }
        let duration = prefix + "freeze_duration_seconds"
        header(duration, "summary", "Time from a case's report to each of its accounts frozen, by the window of the freeze.", into: &out)
        for s in labelled {
            let f = s.window.freeze
            if f.count > 0 {
                for (q, minutes) in [("0.5", f.p50Minutes), ("0.9", f.p90Minutes), ("0.99", f.p99Minutes)] {
                    out += "\(duration){\(s.labels),quantile=\"\(q)\"} \(seconds(minutes))\(s.time)\n"
                }
            }
            out += "\(duration)_sum{\(s.labels)} \(Double(f.sumMillis) / 1000)\(s.time)\n"
            out += "\(duration)_count{\(s.labels)} \(f.count)\(s.time)\n"
        }
        let within = prefix + "freezes_within_sla"
        header(within, "gauge", "Accounts frozen within the SLA (15 minutes unless configured) of their case's report.", into: &out)
        for s in labelled { out += "\(within){\(s.labels)} \(s.window.freeze.withinSLACount)\(s.time)\n" }
    }

    static func inputFamilies(_ r: Report, into out: inout String) {
        func perSource(_ name: String, _ help: String, _ value: (InputStats) -> Int) {
            header(name, "counter", help, into: &out)
            for (source, stats) in r.sources { out += "\(name){source=\(quoted(source))} \(value(stats))\n" }
        }
        perSource("aocpipe_source_files_total", "Files read.", \.files)
        perSource("aocpipe_source_read_bytes_total", "Bytes read from files (compressed, for gzip).", \.bytesRead)
        perSource("aocpipe_source_decoded_bytes_total", "Bytes of text decoded.", \.bytesDecoded)
        perSource("aocpipe_source_lines_total", "Lines read, good or bad.", \.lines)
        perSource("aocpipe_source_records_total", "Lines counted as records.", \.records)
        perSource("aocpipe_source_call_lines_total", "Hotline CDR lines among the records (several lines can be one call).", \.callLines)
        perSource("aocpipe_source_skipped_lines_total", "Well-formed lines not counted (calls to other numbers).", \.skipped)
        perSource("aocpipe_source_late_dropped_records_total", "Records older than the retention, or call lines later than the lateness, not counted.", \.lateDropped)
        perSource("aocpipe_source_truncations_total", "Files found truncated (read again from the start).", \.truncations)
        perSource("aocpipe_source_gzip_damage_total", "Damaged or cut gzip members.", { $0.damage.count })
        let malformed = "aocpipe_source_malformed_lines_total"
        header(malformed, "counter", "Lines not understood, by reason.", into: &out)
        for (source, stats) in r.sources {
            for reason in MalformedReason.allCases.sorted() {
                out += "\(malformed){source=\(quoted(source)),reason=\"\(reason.rawValue)\"} \(stats.malformedByReason[reason] ?? 0)\n"
            }
        }
        header("aocpipe_unmatched_freezes_total", "counter", "Accounts frozen whose case has no report at or before the freeze.", into: &out)
        out += "aocpipe_unmatched_freezes_total \(r.input.unmatched)\n"
        if let w = r.watermark {
            header("aocpipe_watermark_timestamp_seconds", "gauge", "Newest event time counted.", into: &out)
            out += "aocpipe_watermark_timestamp_seconds \(w)\n"
        }
    }

    static func header(_ family: String, _ type: String, _ help: String, into out: inout String) {
        out += "# HELP \(family) \(help)\n# TYPE \(family) \(type)\n"
    }

    /// Minutes as seconds, to the millisecond the latencies were measured in.
    static func seconds(_ minutes: Double) -> Double { (minutes * 60_000).rounded() / 1000 }

    /// A label value in quotes, with `\`, `"` and newlines escaped.
    static func quoted(_ value: String) -> String {
        var s = "\""
        for c in value {
            switch c {
            case "\\": s += "\\\\"
            case "\"": s += "\\\""
            case "\n": s += "\\n"
            default: s.append(c)
            }
        }
        return s + "\""
    }

    /// The agent's own gauges and counters (`/metrics` only), at its last tick.
    static func agent(_ a: AgentStatus) -> String {
        var out = ""
        header("aocpipe_files_open", "gauge", "Files being followed.", into: &out)
        out += "aocpipe_files_open \(a.filesOpen)\n"
        header("aocpipe_rotations_total", "counter", "Followed files seen under a new name (rotations), since start.", into: &out)
        out += "aocpipe_rotations_total \(a.rotations)\n"
        header("aocpipe_source_lag_bytes", "gauge",
               "Bytes in followed files not read yet (newest byte seen less newest byte counted).", into: &out)
        for (source, bytes) in a.lagBytes { out += "aocpipe_source_lag_bytes{source=\(quoted(source))} \(bytes)\n" }
        if let written = a.lastCheckpoint {
            header("aocpipe_last_checkpoint_timestamp_seconds", "gauge", "When the checkpoint was last known current (written, or unchanged since).", into: &out)
            out += "aocpipe_last_checkpoint_timestamp_seconds \(written)\n"
        }
        if let bytes = a.checkpointBytes {
            header("aocpipe_checkpoint_written_bytes_total", "counter", "Bytes written to the checkpoint (its base and journal), since start.", into: &out)
            out += "aocpipe_checkpoint_written_bytes_total \(bytes)\n"
        }
        return out
    }
}

/// What a follower says of itself on `/metrics`, besides the windows.
struct AgentStatus {
    var filesOpen: Int
    /// Followed files seen under a new name since start.
    var rotations: Int
    /// Per source, in pipeline order.
    var lagBytes: [(source: String, bytes: Int)]
    /// When the checkpoint was last written (Unix seconds), nil before the first.
    var lastCheckpoint: Int?
    /// Bytes written to the checkpoint (base and journal) since start; nil: none is kept.
    var checkpointBytes: Int? = nil
}
