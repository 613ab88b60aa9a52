import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress bar on stderr: bytes, files, rate, ETA. Redrawn a few times a second.
final class ProgressBar: Sendable {
    let timer: DispatchSource
    let queue: DispatchQueue

    /// Starts a bar when `mode` asks for one (`auto`: only when stderr is a terminal).
    static func start(mode: BatchRunner.ProgressMode, totalBytes: Int, totalFiles: Int,
                      bytes: ProgressCounter, files: ProgressCounter) -> ProgressBar? {
        switch mode {
        case .never: return nil
        case .auto: guard isatty(2) == 1 else { return nil }
        case .always: break
        }
        return ProgressBar(totalBytes: totalBytes, totalFiles: totalFiles, bytes: bytes, files: files)
    }

    init(totalBytes: Int, totalFiles: Int, bytes: ProgressCounter, files: ProgressCounter) {
        queue = DispatchQueue(label: "aocpipe.progress")
        timer = DispatchSource.makeTimerSource(queue: queue) as! DispatchSource
        let started = DispatchTime.now().uptimeNanoseconds
        timer.setEventHandler {
            let done = bytes.current
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let rate = seconds > 0 ? Double(done) / seconds : 0
            let fraction = totalBytes > 0 ? min(Double(done) / Double(totalBytes), 1) : 0
            let width = 24
            let filled = Int(fraction * Double(width))
            var line = "\r[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            line += String(format: "%3.0f%% ", fraction * 100)
            line += "\(Text.human(bytes: done))/\(Text.human(bytes: totalBytes)) "
            line += "\(files.current)/\(totalFiles) files \(Text.human(bytes: Int(rate)))/s"
            if rate > 0 && done < totalBytes { line += String(format: " ETA %.0fs", Double(totalBytes - done) / rate) }
            ProgressBar.write(line + "\u{1B}[K")
        }
        timer.schedule(deadline: .now(), repeating: .milliseconds(200))
        timer.resume()
    }

    func stop() {
        queue.sync {
            timer.cancel()
            ProgressBar.write("\r\u{1B}[K")
        }
    }

    static func write(_ s: String) {
        var s = s
        s.withUTF8 { _ = systemWrite(2, $0.baseAddress, $0.count) }
    }
}
