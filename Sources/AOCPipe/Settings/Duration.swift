/// Durations as written in pipeline files: `250ms`, `10s`, `15m`, `2h`, `90d`, `1h30m`.
public enum Duration {
    /// The longest duration any setting takes: 100 years (36500d). Longer ones are refused,
    /// as their nanoseconds would not fit the timers' 64 bits.
    public static let maxMillis = 36_500 * 86_400_000

    /// Why a text is not a usable duration, as the error says it (nil: it is one, > 0).
    public static func problem(_ text: String) -> String? {
        guard let ms = parseMillis(text), ms > 0 else { return "\"\(text)\" is not a duration (e.g. 250ms, 10s, 15m, 2h, 90d)" }
        return ms > maxMillis ? "\"\(text)\" is longer than the longest duration taken, 36500d (100 years)" : nil
    }

    /// Milliseconds, or nil when the text is not a duration (or too long to add up).
    public static func parseMillis(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        var i = 0, total = 0
        while i < bytes.count {
            var value = 0, digits = 0
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                value = value * 10 + Int(bytes[i] - 48)
                digits += 1
                i += 1
                if value > 1_000_000_000 { return nil }
            }
            guard digits > 0 else { return nil }
            var unit = ""
            while i < bytes.count, !(bytes[i] >= 48 && bytes[i] <= 57) {
                unit.append(Character(UnicodeScalar(bytes[i])))
                i += 1
            }
            let scale: Int
            switch unit {
            case "ms": scale = 1
            case "s": scale = 1000
            case "m": scale = 60_000
            case "h": scale = 3_600_000
            case "d": scale = 86_400_000
            default: return nil
            }
            total += value * scale
            if total > 1 << 52 { return nil }
        }
        return total
    }

    /// A duration as a pipeline file would write it: `1h`, `90d`, `1h30m`, `250ms`.
    public static func text(_ millis: Int) -> String {
        if millis == 0 { return "0" }
        var rest = millis, out = ""
        for (unit, scale) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] where rest >= scale {
            out += "\(rest / scale)\(unit)"
            rest %= scale
        }
        return out
    }
}
