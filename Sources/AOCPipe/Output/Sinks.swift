import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where follow mode's emissions go: stdout or a file, in one format.
///
/// Snapshot formats (table, json, csv, thai) show the whole state each time: on a terminal the
/// table is redrawn in place, a file is replaced atomically. `jsonl` appends one object per
/// window that changed since the previous emission.
final class Sink {
    enum Target { case stdout, file(String) }

    let target: Target
    let format: OutputFormat
    let windows: WindowSelection?
    /// Prometheus formats: only the windows ending within this long of the watermark.
    let horizonMillis: Int
    let redraw: Bool
    /// jsonl: the last line written for each window.
    var lastLines: [String: String] = [:]

    init(target: Target, format: OutputFormat, windows: WindowSelection?, horizonMillis: Int = PipelineConfig.defaultHorizonMillis) {
        self.target = target
        self.format = format
        self.windows = windows
        self.horizonMillis = horizonMillis
        if case .stdout = target { redraw = format == .table && isatty(1) == 1 } else { redraw = false }
    }

    static func from(_ config: PipelineConfig) -> [Sink] {
        let sinks: [Sink] = config.sinks.compactMap { s in
            let format = s.format.flatMap(OutputFormat.init(rawValue:)) ?? .table
            let windows = s.windows.flatMap(WindowSelection.init(rawValue:))
            switch s.type {
            case "stdout": return Sink(target: .stdout, format: format, windows: windows)
            case "file": return s.path.map { Sink(target: .file($0), format: format, windows: windows, horizonMillis: s.horizonMillis) }
            default: return nil  // http: the metrics endpoint, started by the command line
            }
        }
        return sinks.isEmpty ? [Sink(target: .stdout, format: .table, windows: nil)] : sinks
    }

    func emit(_ report: Report) throws {
        switch format {
        case .jsonl:
            var out = ""
            for (key, line) in Renderer.jsonlLines(report, windows: windows ?? .all) where lastLines[key] != line {
                lastLines[key] = line
                out += line + "\n"
            }
            guard !out.isEmpty else { return }
            switch target {
            case .stdout: Self.write(out)
            case .file(let path): try Self.append(out, to: path)
            }
        case .prometheus, .openmetrics:
            let text = Renderer.render(report.within(horizonMillis: horizonMillis), as: format, windows: windows)
            switch target {
            case .stdout: Self.write(text)
            case .file(let path): try AtomicFile.write(text, to: path)
            }
        default:
            let text = Renderer.render(report, as: format, windows: windows)
            switch target {
            case .stdout: Self.write(redraw ? "\u{1B}[H\u{1B}[2J" + text : text)
            case .file(let path): try AtomicFile.write(text, to: path)
            }
        }
    }

    static func write(_ text: String) {
        var t = text
        t.withUTF8 { buf in
            var done = 0
            while done < buf.count {
                let n = Glibc.write(1, buf.baseAddress! + done, buf.count - done)
                if n <= 0 { return }
                done += n
            }
        }
    }

    static func append(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicFile.WriteError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count, fsync(fd) == 0 else { throw AtomicFile.WriteError(path: path, reason: String(cString: strerror(errno))) }
    }
}
