import Foundation
import Yams

/// A pipeline file (DESIGN.md section 8), decoded strictly.
public struct PipelineConfig: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case asteriskCDR = "asterisk-cdr"
        case freezeJSONL = "freeze-jsonl"
    }

    public struct Source: Sendable {
        public var name: String
        public var format: Format
        /// Globs as written, relative to the current directory.
        public var paths: [String]
        /// Zone of the source's zone-less timestamps.
        public var zone: Zone
        public var hotline: String
        /// The pipeline file's line of this source, for messages.
        public var line: Int?

        public init(name: String, format: Format, paths: [String], zone: Zone, hotline: String = "1441", line: Int? = nil) {
            self.name = name
            self.format = format
            self.paths = paths
            self.zone = zone
            self.hotline = hotline
            self.line = line
        }
    }

    public struct Sink: Sendable {
        public var type: String
        public var format: String?
        public var path: String?
        public var windows: String?
        public var listen: String?
        /// Prometheus formats: expose the windows that end within this long of the watermark.
        public var horizonMillis: Int = PipelineConfig.defaultHorizonMillis
    }

    /// Windows exposed to Prometheus by default: the last week's (a series per window).
    public static let defaultHorizonMillis = 7 * 86_400_000

    public var file: String
    public var name: String
    public var zone: Zone
    public var sources: [Source]
    public var slaMillis = 15 * 60_000
    public var retentionMillis = 90 * 86_400_000
    public var latenessMillis = 2 * 3_600_000
    public var pollMillis = 250
    public var emitEveryMillis = 10_000
    public var checkpointPath: String?
    public var checkpointEveryMillis = 5_000
    public var maxLineBytes = 65_536
    public var quarantinePath: String?
    public var sinks: [Sink] = []

    public static func load(path: String) throws(ConfigError) -> PipelineConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, line: nil, key: nil, message: "cannot read the pipeline file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, line: nil, key: nil, message: "the pipeline file is not UTF-8 text")
        }
        return try parse(yaml: text, file: path)
    }

    public static func parse(yaml: String, file: String) throws(ConfigError) -> PipelineConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigError(file: file, line: Self.line(of: error), key: nil, message: "not valid YAML: \(Self.problem(of: error))")
        } catch {
            throw ConfigError(file: file, line: nil, key: nil, message: "not valid YAML: \(error)")
        }
        guard let root else { throw ConfigError(file: file, line: nil, key: nil, message: "the pipeline file is empty") }
        let top = try YAMLMapping(root, file: file, path: "",
                                  known: ["name", "timezone", "sources", "aggregate", "follow", "checkpoint", "limits", "quarantine", "sinks"])
        var config = PipelineConfig(file: file, name: try top.string("name") ?? "pipeline",
                                    zone: try top.zone("timezone") ?? Zone(identifier: "Asia/Bangkok")!, sources: [])
        guard let sourcesNode = top.node("sources") else {
            throw ConfigError(file: file, line: root.mark?.line, key: "sources", message: "a pipeline needs at least one source")
        }
        let sourceList = try top.sequence(sourcesNode, key: "sources")
        guard !sourceList.isEmpty else {
            throw ConfigError(file: file, line: sourcesNode.mark?.line, key: "sources", message: "a pipeline needs at least one source")
        }
        var names = Set<String>()
        for (i, node) in sourceList.enumerated() {
            let m = try YAMLMapping(node, file: file, path: "sources[\(i)]", known: ["name", "format", "paths", "timezone", "hotline"])
            guard let name = try m.string("name") else { throw m.missing("name") }
            guard names.insert(name).inserted else { throw m.error("name", "two sources are named \"\(name)\"") }
            guard let formatName = try m.string("format") else { throw m.missing("format") }
            guard let format = Format(rawValue: formatName) else {
                throw m.error("format", "unknown format \"\(formatName)\" (known: \(Format.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let paths = try m.strings("paths"), !paths.isEmpty else { throw m.missing("paths") }
            let hotline = try m.string("hotline") ?? "1441"
            guard !hotline.isEmpty, hotline.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                throw m.error("hotline", "a hotline number is digits only, e.g. \"1441\"")
            }
            config.sources.append(Source(name: name, format: format, paths: paths,
                                         zone: try m.zone("timezone") ?? config.zone, hotline: hotline,
                                         line: node.mark?.line))
        }
        if let m = try top.mapping("aggregate", known: ["sla", "retention", "lateness"]) {
            config.slaMillis = try m.duration("sla") ?? config.slaMillis
            config.retentionMillis = try m.duration("retention") ?? config.retentionMillis
            config.latenessMillis = try m.duration("lateness") ?? config.latenessMillis
        }
        if let m = try top.mapping("follow", known: ["poll", "emit_every"]) {
            config.pollMillis = try m.duration("poll") ?? config.pollMillis
            config.emitEveryMillis = try m.duration("emit_every") ?? config.emitEveryMillis
        }
        if let m = try top.mapping("checkpoint", known: ["path", "every"]) {
            config.checkpointPath = try m.string("path")
            config.checkpointEveryMillis = try m.duration("every") ?? config.checkpointEveryMillis
        }
        if let m = try top.mapping("limits", known: ["max_line_bytes"]) {
            if let n = try m.int("max_line_bytes") {
                guard n >= 64, n <= 64 << 20 else { throw m.error("max_line_bytes", "must be between 64 and 67108864") }
                config.maxLineBytes = n
            }
        }
        if let m = try top.mapping("quarantine", known: ["path"]) {
            config.quarantinePath = try m.string("path")
        }
        if let sinksNode = top.node("sinks") {
            for (i, node) in try top.sequence(sinksNode, key: "sinks").enumerated() {
                let m = try YAMLMapping(node, file: file, path: "sinks[\(i)]", known: ["type", "format", "path", "windows", "listen", "horizon"])
                guard let type = try m.string("type") else { throw m.missing("type") }
                guard ["stdout", "file", "http"].contains(type) else {
                    throw m.error("type", "unknown sink type \"\(type)\" (known: stdout, file, http)")
                }
                let format = try m.string("format")
                if let format, OutputFormat(rawValue: format) == nil {
                    throw m.error("format", "unknown format \"\(format)\" (known: \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                let windows = try m.string("windows")
                if let windows, !["day", "hour", "all"].contains(windows) {
                    throw m.error("windows", "must be day, hour or all")
                }
                let path = try m.string("path")
                if type == "file" && path == nil { throw m.missing("path") }
                config.sinks.append(Sink(type: type, format: format, path: path, windows: windows, listen: try m.string("listen"),
                                         horizonMillis: try m.duration("horizon") ?? PipelineConfig.defaultHorizonMillis))
            }
        }
        return config
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _): return mark.line
        default: return nil
        }
    }

    static func problem(of error: YamlError) -> String {
        switch error {
        case let .scanner(_, problem, _, _), let .parser(_, problem, _, _): return problem
        default: return "\(error)"
        }
    }

    /// Expands each source's globs (sorted, duplicates removed). A glob matching no file is an
    /// error naming the file, line and key.
    public func resolveFiles() throws(ConfigError) -> [(source: Source, files: [String])] {
        var result: [(Source, [String])] = []
        for source in sources {
            var files: [String] = []
            var seen = Set<String>()
            for pattern in source.paths {
                let matches = Glob.expand(pattern)
                guard !matches.isEmpty else {
                    throw ConfigError(file: file, line: source.line, key: "sources.\(source.name).paths",
                                      message: "\"\(pattern)\" matches no file (relative paths start at \(FileManager.default.currentDirectoryPath))")
                }
                for m in matches where seen.insert(m).inserted { files.append(m) }
            }
            result.append((source, files))
        }
        return result
    }
}

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

    func duration(_ key: String) throws(ConfigError) -> Int? {
        guard let s = try string(key) else { return nil }
        guard let ms = Duration.parseMillis(s), ms > 0 else {
            throw error(key, "\"\(s)\" is not a duration (e.g. 250ms, 10s, 15m, 2h, 90d)")
        }
        return ms
    }

    func zone(_ key: String) throws(ConfigError) -> Zone? {
        guard let s = try string(key) else { return nil }
        guard let z = Zone(identifier: s) else {
            throw error(key, "\"\(s)\" is not a time zone (use an IANA name such as Asia/Bangkok or UTC)")
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
