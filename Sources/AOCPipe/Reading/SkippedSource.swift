/// A source whose every line was skipped (not the hotline's, by its `hotline`, `contexts` and
/// `trunks`) counts zero without being wrong about it: that is worth a warning, since it is
/// usually a wrong `hotline` number. The warning names the numbers the lines did call, where
/// they look like service numbers (at most 6 characters: 1441, 1202, *97); a longer value
/// could be a person's phone number and is never shown.
enum SkippedSource {
    /// The warning for `source` after reading `stats`, or nil when some record counted.
    /// `sample`: a file of the source, to find what its lines call (read off the hot path).
    static func warning(_ source: PipelineConfig.Source, stats: InputStats, sample: String?) -> String? {
        guard stats.skipped > 0, stats.records == 0 else { return nil }
        var text = "source \(source.name): all \(stats.skipped) line(s) were skipped, none counted"
        guard source.format == .asteriskCDR else { return text + " (no event it counts)" }
        text += " (hotline \(source.calls.hotline.joined(separator: ", "))"
        if !source.calls.contexts.isEmpty { text += ", contexts \(source.calls.contexts.joined(separator: ", "))" }
        if !source.calls.trunks.isEmpty { text += ", trunks \(source.calls.trunks.joined(separator: ", "))" }
        text += ")"
        let seen = sample.map { serviceNumbers(in: $0) } ?? []
        if !seen.isEmpty { text += "; the lines call \(seen.joined(separator: ", "))" }
        return text + "; check the source's hotline setting"
    }

    /// The `dst` values of the first lines of `path` that look like service numbers (up to 6
    /// characters of digits, `*` and `#`), the most called first, at most 8.
    static func serviceNumbers(in path: String, bytes: Int = 256 * 1024) -> [String] {
        guard let file = try? InputFile(path: path), let text = try? Fingerprint.prefix(of: file, length: bytes, live: false) else { return [] }
        var counts: [String: Int] = [:]
        for line in text.split(separator: 0x0A) {
            guard let dst = csvField(AsteriskCDRParser.dstColumn, of: Array(line)), (1...6).contains(dst.count),
                  dst.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2A || $0 == 0x23 }) else { continue }
            counts[String(decoding: dst, as: UTF8.self), default: 0] += 1
        }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(8).map(\.key)
    }

    /// Field `index` of a CSV line (quotes removed; a field with doubled quotes is not a number
    /// and comes back as is).
    static func csvField(_ index: Int, of line: [UInt8]) -> [UInt8]? {
        var column = 0, i = 0
        while i <= line.count {
            var end: Int, value: ArraySlice<UInt8>
            if i < line.count && line[i] == 0x22 {
                guard let close = line[(i + 1)...].firstIndex(of: 0x22) else { return nil }
                value = line[(i + 1)..<close]
                end = close + 1
            } else {
                end = line[i...].firstIndex(of: 0x2C) ?? line.count
                value = line[i..<end]
            }
            if column == index { return Array(value) }
            guard end < line.count, line[end] == 0x2C else { return nil }
            column += 1
            i = end + 1
        }
        return nil
    }
}
