/// One entry of a pipeline's `sinks`, typed when the file is loaded: where follow's emissions
/// go, in which format, with which windows.
public struct SinkSettings: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        case stdout
        /// Replaced atomically at each emission (`jsonl`: appended).
        case file(path: String)
        /// The HTTP endpoint (`/metrics`, `/healthz`), listening on `HOST:PORT`.
        case http(listen: String)
    }

    public var target: Target
    public var format: OutputFormat
    /// Which windows to write; nil: the format's own default (`Renderer.render`).
    public var windows: WindowSelection?
    /// Prometheus formats: expose the windows that end within this long of the watermark.
    /// Other formats too, when the pipeline file says so.
    public var horizonMillis: Int?

    public init(target: Target, format: OutputFormat = .table, windows: WindowSelection? = nil, horizonMillis: Int? = nil) {
        self.target = target
        self.format = format
        self.windows = windows
        self.horizonMillis = horizonMillis
    }

    /// The horizon in force: the one set, or, for Prometheus formats, `Defaults.horizonMillis`.
    public var effectiveHorizonMillis: Int? {
        if let horizonMillis { return horizonMillis }
        switch format {
        case .prometheus, .openmetrics: return Defaults.horizonMillis
        default: return target.isHTTP ? Defaults.horizonMillis : nil
        }
    }

    /// The type as the pipeline file names it.
    public var type: String {
        switch target {
        case .stdout: return "stdout"
        case .file: return "file"
        case .http: return "http"
        }
    }
}

extension SinkSettings.Target {
    var isHTTP: Bool { if case .http = self { return true } else { return false } }
}
