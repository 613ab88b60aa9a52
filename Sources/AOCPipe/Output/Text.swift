import Foundation

/// Small formatting helpers shared by the renderers.
package enum Text {
    /// `2023-11-01T08:00:00+07:00` for a UTC instant shown at `offset`.
    package static func localTimestamp(_ utc: Int, offset: Int) -> String {
        let local = utc + offset
        let (y, m, d) = CivilTime.civilFromDays(CivilTime.floorDiv(local, 86_400))
        let s = CivilTime.floorMod(local, 86_400)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(s / 3600, 2)):\(pad(s / 60 % 60, 2)):\(pad(s % 60, 2))"
            + Zone.formatOffset(offset)
    }

    /// `2023-11-01` for the local date of a UTC instant.
    package static func localDate(_ utc: Int, offset: Int) -> String {
        let (y, m, d) = CivilTime.civilFromDays(CivilTime.floorDiv(utc + offset, 86_400))
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    package static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// `38,564`.
    package static func grouped(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    /// A number for JSON and CSV: up to `places` decimals, no trailing zeros.
    package static func decimal(_ x: Double, places: Int = 3) -> String {
        guard x.isFinite else { return "0" }
        var s = String(format: "%.\(places)f", x)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s == "-0" ? "0" : s
    }

    /// A JSON string literal.
    package static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    package static func human(bytes: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(bytes), u = 0
        while v >= 1000 && u < units.count - 1 { v /= 1000; u += 1 }
        return u == 0 ? "\(bytes) B" : String(format: "%.1f %@", v, units[u])
    }
}
