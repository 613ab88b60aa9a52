import ArgumentParser

/// What a usage error says: ArgumentParser's message, with the nearest subcommand when the
/// first word is not one (`aocpipe bach` -> did you mean `batch`?), and where to find help.
enum UsageError {
    static func message(for error: Error, arguments: [String]) -> String {
        let names = AOCPipeCommand.configuration.subcommands.map { $0._commandName }
        var text = AOCPipeCommand.message(for: error)
        if let first = arguments.first, !first.hasPrefix("-"), !names.contains(first) {
            text = "unknown command '\(first)'"
            if let near = names.min(by: { distance($0, first) < distance($1, first) }), distance(near, first) <= 2 {
                text += "; did you mean '\(near)'?"
            }
            return text + " (commands: \(names.joined(separator: ", ")); see 'aocpipe --help')"
        }
        let sub = arguments.first.flatMap { names.contains($0) ? $0 + " " : nil } ?? ""
        return text + " (see 'aocpipe \(sub)--help')"
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }
}
