import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where follow mode's emissions go: stdout or a file, in one format (a pipeline's
/// `SinkSettings`).
///
/// Snapshot formats (table, json, csv, thai, prometheus) show the whole state each time: on a
/// terminal the table is redrawn in place, a file is replaced atomically. `jsonl` appends one
/// object per window that changed since the previous emission. A horizon, when set (always
/// for Prometheus formats), keeps the windows that end within it of the watermark, whatever
/// the target.
final class Sink {
    let settings: SinkSettings
    let redraw: Bool
    /// jsonl: the last line written for each window.
    var lastLines: [String: String] = [:]

    init(_ settings: SinkSettings) {
        self.settings = settings
        redraw = settings.target == .stdout && settings.format == .table && isatty(1) == 1
    }

    /// The text of one emission, or nil when there is nothing new to write (jsonl).
    func text(for report: Report) -> String? {
        let shown = report.shown(by: settings)
        guard settings.format == .jsonl else {
            let text = Renderer.render(shown, as: settings.format, windows: settings.windows)
            return redraw ? "\u{1B}[H\u{1B}[2J" + text : text
        }
        var out = ""
        for (key, line) in Renderer.jsonlLines(shown, windows: settings.windows ?? .all) where lastLines[key] != line {
            lastLines[key] = line
            out += line + "\n"
        }
        return out.isEmpty ? nil : out
    }

    func emit(_ report: Report) throws {
        guard let text = text(for: report) else { return }
        switch settings.target {
        case .stdout: Self.write(text)
        case .file(let path) where settings.format == .jsonl: try Self.append(text, to: path)
        case .file(let path): try AtomicFile.write(text, to: path)
        case .http: break  // served by the endpoint, not written
        }
    }

    static func write(_ text: String) {
        var t = text
        t.withUTF8 { buf in
            var done = 0
            while done < buf.count {
                let n = systemWrite(1, buf.baseAddress! + done, buf.count - done)
                if n <= 0 { return }
                done += n
            }
        }
    }

    /// `mode`: for a file it creates; `AtomicFile.privateMode` also takes an existing file's
    /// other permissions away (a quarantine written 0644 by an older aocpipe).
    static func append(_ text: String, to path: String, mode: mode_t = 0o644) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode)
        guard fd >= 0 else { throw AtomicFile.WriteError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        if mode == AtomicFile.privateMode { fchmod(fd, mode) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count, fsync(fd) == 0 else { throw AtomicFile.WriteError(path: path, reason: String(cString: strerror(errno))) }
    }
}

extension Report {
    /// The windows a sink shows: those within its horizon, when it has one.
    func shown(by sink: SinkSettings) -> Report {
        sink.effectiveHorizonMillis.map { within(horizonMillis: $0) } ?? self
    }
}
