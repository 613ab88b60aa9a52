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
    /// jsonl: the last line written for each window (a line that failed to be written is not
    /// here, so it is sent again at the next emission).
    var lastLines: [String: String] = [:]

    init(_ settings: SinkSettings) {
        self.settings = settings
        redraw = settings.target == .stdout && settings.format == .table && isatty(1) == 1
    }

    /// The text of one emission, or nil when there is nothing new to write (jsonl), and the
    /// lines it sends (jsonl), to be marked as sent once written.
    func text(for report: Report) -> (text: String, lines: [(key: String, line: String)])? {
        let shown = report.shown(by: settings)
        guard settings.format == .jsonl else {
            let text = Renderer.render(shown, as: settings.format, windows: settings.windows)
            return (redraw ? "\u{1B}[H\u{1B}[2J" + text : text, [])
        }
        let changed = Renderer.jsonlLines(shown, windows: settings.windows ?? .all).filter { lastLines[$0.0] != $0.1 }
        guard !changed.isEmpty else { return nil }
        return (changed.map { $0.1 + "\n" }.joined(), changed.map { (key: $0.0, line: $0.1) })
    }

    func emit(_ report: Report) throws(AtomicFile.WriteError) {
        guard let (text, lines) = text(for: report) else { return }
        switch settings.target {
        case .stdout: try StandardStream.output.write(text)
        case .file(let path) where settings.format == .jsonl: try Self.append(text, to: path)
        case .file(let path): try OutputFile.write(text, to: path)
        case .http: break  // served by the endpoint, not written
        }
        for (key, line) in lines { lastLines[key] = line }
    }

    /// Appends whole lines or none: a write that fails part-way (a full disk) is cut back to
    /// where the file ended, so a reader never sees half a line. `mode`: for a file it creates;
    /// `AtomicFile.privateMode` also takes an existing file's other permissions away (a
    /// quarantine written 0644 by an older aocpipe).
    static func append(_ text: String, to path: String, mode: mode_t = 0o644) throws(AtomicFile.WriteError) {
        try AtomicFile.makeDirectories(for: path)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode)
        guard fd >= 0 else { throw AtomicFile.WriteError(path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        let regular = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        if mode == AtomicFile.privateMode && regular { fchmod(fd, mode) }
        let end = regular ? lseek(fd, 0, SEEK_END) : -1
        var failure = writeAll(fd, Array(text.utf8))
        // A device or pipe cannot be synced (EINVAL); a regular file must be.
        if failure == nil && regular && fsync(fd) != 0 { failure = errno }
        if let failure {
            if end >= 0 { _ = ftruncate(fd, end) }
            throw AtomicFile.WriteError(path: path, errno: failure)
        }
    }
}

extension Report {
    /// The windows a sink shows: those within its horizon, when it has one.
    func shown(by sink: SinkSettings) -> Report {
        sink.effectiveHorizonMillis.map { within(horizonMillis: $0) } ?? self
    }
}
