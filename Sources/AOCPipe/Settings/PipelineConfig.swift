import Foundation
import Yams

/// A pipeline file (README, "Pipeline files"), decoded strictly: every value typed and checked
/// when the file is loaded, defaults from `Defaults`.
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
        /// CDR sources: which lines are the hotline's calls and how they are counted.
        public var calls: CallRules
        /// The pipeline file's line of this source, for messages.
        public var line: Int?

        public init(name: String, format: Format, paths: [String], zone: Zone, calls: CallRules = CallRules(), line: Int? = nil) {
            self.name = name
            self.format = format
            self.paths = paths
            self.zone = zone
            self.calls = calls
            self.line = line
        }
    }

    public var file: String
    public var name: String
    public var zone: Zone
    public var sources: [Source]
    public var slaMillis = Defaults.slaMillis
    public var retentionMillis = Defaults.retentionMillis
    public var latenessMillis = Defaults.latenessMillis
    public var maxFutureMillis = Defaults.maxFutureMillis
    public var notBeforeMillis = Defaults.notBeforeMillis
    /// `not_before` as written (for messages).
    public var notBeforeText = Defaults.notBeforeText
    public var fillGapsMillis = Defaults.fillGapsMillis
    public var pollMillis = Defaults.pollMillis
    public var rescanMillis = Defaults.rescanMillis
    public var idleTimeoutMillis = Defaults.idleTimeoutMillis
    public var emitEveryMillis = Defaults.emitEveryMillis
    public var checkpointPath: String?
    public var checkpointEveryMillis = Defaults.checkpointEveryMillis
    public var maxLineBytes = Defaults.maxLineBytes
    public var quarantinePath: String?
    /// As written; empty means one table on stdout (`followSinks`).
    public var sinks: [SinkSettings] = []
    /// What the user should know about the file although it is valid (one line each).
    public var warnings: [String] = []

    public static func load(path: String) throws(ConfigError) -> PipelineConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, line: nil, key: nil, message: "cannot read the pipeline file: \(readFailure(path))")
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
                                    zone: try top.zone("timezone") ?? Zone(identifier: Defaults.zoneIdentifier)!, sources: [])
        if let w = config.zone.signWarning { config.warnings.append("timezone: \(w)") }
        guard let sourcesNode = top.node("sources") else {
            throw ConfigError(file: file, line: root.mark?.line, key: "sources", message: "a pipeline needs at least one source")
        }
        let sourceList = try top.sequence(sourcesNode, key: "sources")
        guard !sourceList.isEmpty else {
            throw ConfigError(file: file, line: sourcesNode.mark?.line, key: "sources", message: "a pipeline needs at least one source")
        }
        var names = Set<String>()
        for (i, node) in sourceList.enumerated() {
            let m = try YAMLMapping(node, file: file, path: "sources[\(i)]",
                                    known: ["name", "format", "paths", "timezone", "hotline", "contexts", "trunks", "not_agents", "call_key", "answered"])
            guard let name = try m.string("name") else { throw m.missing("name") }
            guard names.insert(name).inserted else { throw m.error("name", "two sources are named \"\(name)\"") }
            guard let formatName = try m.string("format") else { throw m.missing("format") }
            guard let format = Format(rawValue: formatName) else {
                throw m.error("format", "unknown format \"\(formatName)\" (known: \(Format.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let paths = try m.strings("paths"), !paths.isEmpty else { throw m.missing("paths") }
            config.sources.append(Source(name: name, format: format, paths: paths,
                                         zone: try m.zone("timezone") ?? config.zone, calls: try callRules(m),
                                         line: node.mark?.line))
            if let w = config.sources[i].zone.signWarning, config.sources[i].zone != config.zone {
                config.warnings.append("sources[\(i)].timezone: \(w)")
            }
        }
        var notBefore: (millis: Int, text: String)?
        if let m = try top.mapping("aggregate", known: ["sla", "retention", "lateness", "max_future", "not_before", "fill_gaps"]) {
            config.slaMillis = try m.duration("sla") ?? config.slaMillis
            config.retentionMillis = try m.duration("retention") ?? config.retentionMillis
            config.latenessMillis = try m.duration("lateness") ?? config.latenessMillis
            config.maxFutureMillis = try m.duration("max_future") ?? config.maxFutureMillis
            config.fillGapsMillis = try m.duration("fill_gaps", zeroAllowed: true) ?? config.fillGapsMillis
            notBefore = try m.instant("not_before", zone: config.zone)
        }
        // The default is a date too: local midnight in the pipeline's zone, as if written.
        (config.notBeforeMillis, config.notBeforeText) = notBefore
            ?? (config.zone.utc(local: Defaults.notBeforeMillis / 1000) * 1000, Defaults.notBeforeText)
        if let m = try top.mapping("follow", known: ["poll", "rescan", "idle_timeout", "emit_every"]) {
            config.idleTimeoutMillis = try m.duration("idle_timeout") ?? config.idleTimeoutMillis
            config.pollMillis = try m.duration("poll") ?? config.pollMillis
            config.rescanMillis = try m.duration("rescan") ?? config.rescanMillis
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
                config.sinks.append(try sink(m))
            }
        }
        return config
    }

    /// A source's call rules (`hotline`, `contexts`, `trunks`, `not_agents`, `call_key`, `answered`).
    static func callRules(_ m: YAMLMapping) throws(ConfigError) -> CallRules {
        var rules = CallRules()
        if let hotline = try m.strings("hotline") {
            guard !hotline.isEmpty else { throw m.error("hotline", "name at least one hotline number, e.g. \"1441\"") }
            for number in hotline where number.isEmpty || !number.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                throw m.error("hotline", "a hotline number is digits only, e.g. \"1441\" (found \"\(number)\")")
            }
            rules.hotline = hotline
        }
        for (key, value) in [("contexts", try m.strings("contexts")), ("trunks", try m.strings("trunks")),
                             ("not_agents", try m.strings("not_agents"))] {
            guard let value else { continue }
            for v in value where v.isEmpty || v.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: ",") || $0 < 32 }) {
                throw m.error(key, "\"\(v)\" cannot match a CDR field (empty, or holds a quote, comma or control character)")
            }
            switch key {
            case "contexts": rules.contexts = value
            case "trunks": rules.trunks = value
            default: rules.notAgents = value
            }
        }
        if let name = try m.string("call_key") {
            guard let k = CallRules.Key(rawValue: name) else {
                throw m.error("call_key", "must be \(CallRules.Key.allCases.map(\.rawValue).joined(separator: ", ")) (found \"\(name)\")")
            }
            rules.key = k
        }
        if let name = try m.string("answered") {
            guard let a = CallRules.Answered(rawValue: name) else {
                throw m.error("answered", "must be \(CallRules.Answered.allCases.map(\.rawValue).joined(separator: ", ")) (found \"\(name)\")")
            }
            rules.answered = a
        }
        return rules
    }

    /// One `sinks` entry, typed.
    static func sink(_ m: YAMLMapping) throws(ConfigError) -> SinkSettings {
        guard let type = try m.string("type") else { throw m.missing("type") }
        let target: SinkSettings.Target
        switch type {
        case "stdout": target = .stdout
        case "file":
            guard let path = try m.string("path") else { throw m.missing("path") }
            target = .file(path: path)
        case "http":
            let listen = try m.string("listen") ?? Defaults.listen
            if case .failure(let problem) = ListenAddress.parse(listen) { throw m.error("listen", problem.description) }
            target = .http(listen: listen)
        default: throw m.error("type", "unknown sink type \"\(type)\" (known: stdout, file, http)")
        }
        var format = OutputFormat.table
        if let name = try m.string("format") {
            guard let f = OutputFormat(rawValue: name) else {
                throw m.error("format", "unknown format \"\(name)\" (known: \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            format = f
        }
        var windows: WindowSelection?
        if let name = try m.string("windows") {
            guard let w = WindowSelection(rawValue: name) else { throw m.error("windows", "must be day, hour or all") }
            windows = w
        }
        return SinkSettings(target: target, format: format, windows: windows, horizonMillis: try m.duration("horizon"))
    }

    /// The record times counted when the wall clock reads `nowMillis`: from `not_before` to
    /// `max_future` past now. A record outside is `bad_time`, so no wrong clock or damaged
    /// line moves the watermark or makes windows for years without data.
    public func eventTimes(nowMillis: Int) -> ClosedRange<Int> {
        notBeforeMillis...max(notBeforeMillis, nowMillis + maxFutureMillis)
    }

    /// What `eventTimes` means, for messages.
    public var eventTimesText: String {
        "dated before \(notBeforeText) or more than \(Duration.text(maxFutureMillis)) after the clock"
    }

    /// Where follow's emissions go: the sinks written, or a table on stdout when none is.
    public var followSinks: [SinkSettings] {
        let emitting = sinks.filter { !$0.target.isHTTP }
        return emitting.isEmpty ? [SinkSettings(target: .stdout)] : emitting
    }

    /// The pipeline's HTTP endpoint sink, if it has one.
    public var httpSink: SinkSettings? { sinks.first { $0.target.isHTTP } }

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
}

/// Why `path` cannot be read, as the system says it (No such file or directory, Permission
/// denied, Is a directory).
func readFailure(_ path: String) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return String(cString: strerror(errno)) }
    defer { close(fd) }
    var byte: UInt8 = 0
    return read(fd, &byte, 1) < 0 ? String(cString: strerror(errno)) : "it changed while being read"
}
