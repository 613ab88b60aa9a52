import Yams

/// A YAML mapping read key by key, remembering which keys were used so the rest can be refused.
struct YAMLMapping {
    let pairs: [(key: String, value: Node, line: Int?)]
    let file: String
    let path: String
    let line: Int?

    /// Reads a mapping and refuses any key not in `known`, before any value is looked at.
    init(_ node: Node, file: String, path: String, known: [String]) throws(ConfigError) {
        self.file = file
        self.path = path
        self.line = node.mark?.line
        guard case let .mapping(mapping) = node else {
            throw ConfigError(file: file, line: node.mark?.line, key: path.isEmpty ? nil : path, message: "expected a mapping of keys to values")
        }
        pairs = mapping.map { (key: $0.key.string ?? "\($0.key)", value: $0.value, line: $0.key.mark?.line) }
        try rejectUnknown(known)
    }

    func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: pairs.first { $0.key == key }?.line ?? line, key: qualified(key), message: message)
    }

    func missing(_ key: String) -> ConfigError {
        ConfigError(file: file, line: line, key: qualified(key), message: "missing (required)")
    }

    func node(_ key: String) -> Node? { pairs.last { $0.key == key }?.value }

    func string(_ key: String) throws(ConfigError) -> String? {
        guard let node = node(key) else { return nil }
        guard case let .scalar(s) = node else { throw error(key, "expected a single value") }
        return s.string
    }

    func int(_ key: String) throws(ConfigError) -> Int? {
        guard let s = try string(key) else { return nil }
        guard let n = Int(s) else { throw error(key, "expected a whole number, found \"\(s)\"") }
        return n
    }

    func duration(_ key: String, zeroAllowed: Bool = false) throws(ConfigError) -> Int? {
        guard let s = try string(key) else { return nil }
        if zeroAllowed && s == "0" { return 0 }
        if let problem = Duration.problem(s) { throw error(key, problem) }
        return Duration.parseMillis(s)!
    }

    /// A date (`2000-01-01`: local midnight in `zone`) or an RFC 3339 time with its offset, in
    /// UTC milliseconds, with the text as written.
    func instant(_ key: String, zone: Zone) throws(ConfigError) -> (millis: Int, text: String)? {
        guard let s = try string(key) else { return nil }
        let bytes = Array(s.utf8)
        if bytes.count == 10, let millis = (bytes + Array("T00:00:00Z".utf8)).withUnsafeBytes({ Timestamp.parseRFC3339Millis($0) }) {
            return (zone.utc(local: millis / 1000) * 1000, s)
        }
        guard let millis = bytes.withUnsafeBytes({ Timestamp.parseRFC3339Millis($0) }) else {
            throw error(key, "\"\(s)\" is not a date (e.g. 2000-01-01, or 2023-11-01T00:00:00+07:00)")
        }
        return (millis, s)
    }

    func zone(_ key: String) throws(ConfigError) -> Zone? {
        guard let s = try string(key) else { return nil }
        guard !Zone.isOffsetSyntax(s), let z = Zone(identifier: s) else {
            throw error(key, "\"\(s)\" is not a time zone (use an IANA name such as Asia/Bangkok or UTC; \(Zone.isOffsetSyntax(s) ? "offsets such as UTC+7 are not names" : "names are case-sensitive"))")
        }
        return z
    }

    func strings(_ key: String) throws(ConfigError) -> [String]? {
        guard let node = node(key) else { return nil }
        switch node {
        case let .scalar(s): return [s.string]
        case let .sequence(seq):
            var out: [String] = []
            for item in seq {
                guard case let .scalar(s) = item else { throw error(key, "expected a list of strings") }
                out.append(s.string)
            }
            return out
        default: throw error(key, "expected a string or a list of strings")
        }
    }

    func mapping(_ key: String, known: [String]) throws(ConfigError) -> YAMLMapping? {
        guard let node = node(key) else { return nil }
        return try YAMLMapping(node, file: file, path: qualified(key), known: known)
    }

    func sequence(_ node: Node, key: String) throws(ConfigError) -> [Node] {
        guard case let .sequence(seq) = node else { throw error(key, "expected a list") }
        return Array(seq)
    }

    func rejectUnknown(_ known: [String]) throws(ConfigError) {
        for pair in pairs where !known.contains(pair.key) {
            throw ConfigError(file: file, line: pair.line, key: qualified(pair.key),
                              message: "unknown key (known here: \(known.joined(separator: ", ")))")
        }
    }
}
