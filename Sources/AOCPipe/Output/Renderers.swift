import Foundation

/// Renders a `Report` as text. Pure: same report, same bytes.
public enum Renderer {
    public static func render(_ report: Report, as format: OutputFormat, windows: WindowSelection? = nil) -> String {
        switch format {
        case .table: return table(report, windows: windows ?? .day)
        case .json: return json(report, windows: windows ?? .all)
        case .jsonl: return jsonl(report, windows: windows ?? .all)
        case .csv: return csv(report, windows: windows ?? .day)
        case .thai: return thai(report)
        case .prometheus: return Exposition.prometheus(report, windows: windows ?? .all)
        case .openmetrics: return Exposition.openMetrics(report, windows: windows ?? .all)
        }
    }

    static func selected(_ report: Report, _ windows: WindowSelection) -> [(kind: String, window: WindowReport)] {
        switch windows {
        case .day: return report.days.map { ("day", $0) }
        case .hour: return report.hours.map { ("hour", $0) }
        case .all: return report.days.map { ("day", $0) } + report.hours.map { ("hour", $0) }
        }
    }

    // MARK: JSON

    /// A window without freezes has no mean or share: `null`, never a 0 that would pull
    /// any average of windows down.
    static func freezeJSON(_ f: FreezeStats) -> String {
        let v = freezeValues(f, empty: "null")
        return "{\"count\":\(f.count),\"mean\":\(v[0]),\"p50\":\(v[1]),\"p90\":\(v[2]),\"p99\":\(v[3]),\"max\":\(v[4]),\"within_sla\":\(v[5])}"
    }

    /// Mean, p50, p90, p99, max (minutes) and the share within the SLA, as text; `empty` for
    /// each when the window has no freeze.
    static func freezeValues(_ f: FreezeStats, empty: String) -> [String] {
        guard f.count > 0 else { return Array(repeating: empty, count: 6) }
        return [Text.decimal(f.meanMinutes), Text.decimal(f.p50Minutes), Text.decimal(f.p90Minutes), Text.decimal(f.p99Minutes),
                Text.decimal(f.maxMinutes), Text.decimal(f.withinSLA, places: 4)]
    }

    static func metricsJSON(_ w: WindowReport) -> String {
        w.counters.named.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + ",\"freeze_minutes\":" + freezeJSON(w.freeze)
    }

    static func windowJSON(kind: String, _ w: WindowReport) -> String {
        var s = "{"
        if kind == "day" { s += "\"day\":\"\(Text.localDate(w.start, offset: w.startOffset))\"," }
        s += "\"start\":\"\(Text.localTimestamp(w.start, offset: w.startOffset))\",\"end\":\"\(Text.localTimestamp(w.end, offset: w.endOffset))\","
        s += "\"final\":\(w.isFinal),"
        return s + metricsJSON(w) + "}"
    }


    static func inputJSON(_ i: InputStats) -> String {
        let reasons = MalformedReason.allCases.sorted().compactMap { r in
            i.malformedByReason[r].map { "\"\(r.rawValue)\":\($0)" }
        }.joined(separator: ",")
        let damage = i.damage.map {
            "{\"file\":\(Text.jsonString($0.path)),\"kind\":\(Text.jsonString($0.kind.rawValue)),\"offset\":\($0.offset),"
                + "\"resumed_at\":\($0.resumedAt.map(String.init) ?? "null")}"
        }.joined(separator: ",")
        let duplicates = i.duplicates.map {
            "{\"file\":\(Text.jsonString($0.path)),\"same_as\":\(Text.jsonString($0.sameAs)),\"why\":\(Text.jsonString($0.why.rawValue))}"
        }.joined(separator: ",")
        return "{\"files\":\(i.files),\"bytes_read\":\(i.bytesRead),\"bytes_decoded\":\(i.bytesDecoded),\"lines\":\(i.lines),"
            + "\"records\":\(i.records),\"call_lines\":\(i.callLines),\"keyless_call_lines\":\(i.keylessCallLines),\"skipped\":\(i.skipped),\"malformed\":\(i.malformed),\"malformed_by_reason\":{\(reasons)},"
            + "\"late_dropped\":\(i.lateDropped),\"unmatched\":\(i.unmatched),\"truncations\":\(i.truncations),\"gzip_damage\":[\(damage)],\"duplicates\":[\(duplicates)]}"
    }

    public static func json(_ r: Report, windows: WindowSelection = .all) -> String {
        var s = "{\n  \"pipeline\": \(Text.jsonString(r.pipeline)),\n  \"timezone\": \(Text.jsonString(r.zone.identifier)),\n"
        if let w = r.watermark {
            s += "  \"watermark\": \"\(Text.localTimestamp(w, offset: r.zone.offset(utc: w)))\",\n"
        } else {
            s += "  \"watermark\": null,\n"
        }
        s += "  \"totals\": {" + metricsJSON(r.totals) + "},\n"
        let days = windows == .hour ? [] : r.days
        let hours = windows == .day ? [] : r.hours
        s += "  \"days\": [" + days.map { "\n    " + windowJSON(kind: "day", $0) }.joined(separator: ",") + (days.isEmpty ? "" : "\n  ") + "],\n"
        s += "  \"hours\": [" + hours.map { "\n    " + windowJSON(kind: "hour", $0) }.joined(separator: ",") + (hours.isEmpty ? "" : "\n  ") + "],\n"
        if !r.rolling.isEmpty {
            s += "  \"rolling\": {" + r.rolling.map { name, w in
                "\n    \"\(name)\": {\"start\":\"\(Text.localTimestamp(w.start, offset: w.startOffset))\","
                    + "\"end\":\"\(Text.localTimestamp(w.end, offset: w.endOffset))\"," + metricsJSON(w) + "}"
            }.joined(separator: ",") + "\n  },\n"
        }
        s += "  \"input\": " + inputJSON(r.input) + ",\n"
        s += "  \"sources\": {" + r.sources.map { "\n    \(Text.jsonString($0.name)): " + inputJSON($0.stats) }.joined(separator: ",")
            + (r.sources.isEmpty ? "" : "\n  ") + "}\n"
        return s + "}\n"
    }

    public static func jsonl(_ r: Report, windows: WindowSelection = .all) -> String {
        jsonlLines(r, windows: windows).map { $0.line + "\n" }.joined()
    }

    /// One JSON object per window, with a key naming the window (kind and start).
    static func jsonlLines(_ r: Report, windows: WindowSelection) -> [(key: String, line: String)] {
        selected(r, windows).map { kind, w in
            ("\(kind) \(w.start)",
             "{\"pipeline\":\(Text.jsonString(r.pipeline)),\"window\":\"\(kind)\"," + windowJSON(kind: kind, w).dropFirst())
        }
    }

    // MARK: CSV

    public static func csv(_ r: Report, windows: WindowSelection = .day) -> String {
        var s = "window,start,end,final," + Metric.allCases.map(\.name).joined(separator: ",")
            + ",freeze_count,freeze_mean_minutes,freeze_p50_minutes,freeze_p90_minutes,freeze_p99_minutes,freeze_max_minutes,freeze_within_sla\n"
        for (kind, w) in selected(r, windows) {
            let f = w.freeze
            s += "\(kind),\(Text.localTimestamp(w.start, offset: w.startOffset)),\(Text.localTimestamp(w.end, offset: w.endOffset)),\(w.isFinal),"
            s += w.counters.named.map { String($0.1) }.joined(separator: ",")
            s += ",\(f.count)," + freezeValues(f, empty: "").joined(separator: ",") + "\n"
        }
        return s
    }

    // MARK: Thai (the press release's sentences)

    static let thaiMonths = ["ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."]

    /// `1 พ.ย. 2566`: day, Thai month abbreviation, Buddhist-era year.
    static func thaiDate(_ w: WindowReport) -> String {
        let (y, m, d) = CivilTime.civilFromDays(CivilTime.floorDiv(w.start + w.startOffset, 86_400))
        return "\(d) \(thaiMonths[m - 1]) \(y + 543)"
    }

    /// `1-14 พ.ย. 66` within one month, else `28 ต.ค. 66 - 3 พ.ย. 66` (short Buddhist-era year).
    static func thaiRange(_ first: WindowReport, _ last: WindowReport) -> String {
        let a = CivilTime.civilFromDays(CivilTime.floorDiv(first.start + first.startOffset, 86_400))
        let b = CivilTime.civilFromDays(CivilTime.floorDiv(last.start + last.startOffset, 86_400))
        func short(_ y: Int) -> String { Text.pad((y + 543) % 100, 2) }
        if a.year == b.year && a.month == b.month {
            return "\(a.day)-\(b.day) \(thaiMonths[a.month - 1]) \(short(a.year))"
        }
        return "\(a.day) \(thaiMonths[a.month - 1]) \(short(a.year)) - \(b.day) \(thaiMonths[b.month - 1]) \(short(b.year))"
    }

    public static func thai(_ r: Report) -> String {
        var s = ""
        for w in r.days {
            s += "วันที่ \(thaiDate(w)) สายเข้า \(Text.grouped(w.counters.calls)) สาย อายัดบัญชีจบ จำนวน \(Text.grouped(w.counters.accountsFrozen)) บัญชี\n"
        }
        if let first = r.days.first, let last = r.days.last {
            // As the release summed up: "14 วันแรก 38,564 สาย (วันที่ 1-14 พ.ย. 66)" and
            // "อายัดบัญชี เฉลี่ย 15 นาทีจบ จำนวน 2,671 บัญชี".
            s += "รวม \(r.days.count) วัน (วันที่ \(thaiRange(first, last))) สายเข้า \(Text.grouped(r.totals.counters.calls)) สาย\n"
            s += "อายัดบัญชี"
            if r.totals.freeze.count > 0 { s += " เฉลี่ย \(Text.decimal(r.totals.freeze.meanMinutes, places: 1)) นาทีจบ" }
            s += " จำนวน \(Text.grouped(r.totals.counters.accountsFrozen)) บัญชี\n"
        }
        return s
    }

    // MARK: Table (for people)

    public static func table(_ r: Report, windows: WindowSelection = .day) -> String {
        let header = ["window", "calls", "answered", "unanswered", "cases", "requests", "frozen", "failed",
                      "freeze mean", "p50", "p90", "max", "in SLA"]
        func row(_ label: String, _ w: WindowReport) -> [String] {
            let c = w.counters, f = w.freeze
            let minutes: (Double) -> String = { f.count == 0 ? "-" : String(format: "%.1fm", $0) }
            return [label, Text.grouped(c.calls), Text.grouped(c.callsAnswered), Text.grouped(c.callsUnanswered),
                    Text.grouped(c.casesReported), Text.grouped(c.freezeRequests), Text.grouped(c.accountsFrozen),
                    Text.grouped(c.freezesFailed), minutes(f.meanMinutes), minutes(f.p50Minutes), minutes(f.p90Minutes),
                    minutes(f.maxMinutes), f.count == 0 ? "-" : String(format: "%.1f%%", f.withinSLA * 100)]
        }
        var rows: [[String]] = []
        for (kind, w) in selected(r, windows) {
            let label = kind == "day" ? Text.localDate(w.start, offset: w.startOffset)
                : String(Text.localTimestamp(w.start, offset: w.startOffset).prefix(16)).replacingOccurrences(of: "T", with: " ")
            rows.append(row(label, w) + (w.isFinal ? [""] : ["open"]))
        }
        let total = row("total", r.totals) + [""]
        let all = [header + [""]] + rows + [total]
        var widths = [Int](repeating: 0, count: header.count + 1)
        for rw in all { for (i, cell) in rw.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let padding = String(repeating: " ", count: widths[i] - cell.count)
                return i == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1) - (widths.last == 0 ? 2 : 0))
        var s = "\(r.pipeline): \(r.days.count) day(s) in \(r.zone.identifier)"
        if let w = r.watermark { s += ", data up to \(Text.localTimestamp(w, offset: r.zone.offset(utc: w)))" }
        s += "\n\n" + line(header + [""]) + "\n" + rule + "\n"
        for rw in rows { s += line(rw) + "\n" }
        s += rule + "\n" + line(total) + "\n\n"
        let i = r.input
        s += "input: \(i.files) files"
        if !i.duplicates.isEmpty { s += " (\(i.duplicates.count) more skipped as duplicates)" }
        s += ", \(Text.human(bytes: i.bytesRead)) read, \(Text.human(bytes: i.bytesDecoded)) decoded, "
        s += "\(Text.grouped(i.lines)) lines, \(Text.grouped(i.records)) records"
        if i.callLines > 0 { s += " (\(Text.grouped(r.totals.counters.calls)) calls from \(Text.grouped(i.callLines)) hotline CDR lines)" }
        s += ", \(Text.grouped(i.skipped)) skipped, "
        s += "\(Text.grouped(i.malformed)) malformed, \(Text.grouped(i.unmatched)) frozen without a report"
        if i.lateDropped > 0 { s += ", \(Text.grouped(i.lateDropped)) late" }
        if !i.damage.isEmpty { s += ", \(i.damage.count) damaged gzip region(s)" }
        return s + "\n"
    }
}
