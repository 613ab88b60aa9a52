import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// A running `aocpipe follow`, as an operator runs it: a process, signals, its JSON file sink.
final class Follower {
    let dir: String
    let pipeline: String
    let output: String
    /// The node_exporter textfile sink (Prometheus text format).
    let textfile: String
    let log: String
    var process: Process?
    var runs = 0

    /// `extra`: more top-level keys of the pipeline file (YAML lines).
    /// `sinks`: more sinks (YAML list items).
    init(dir: String, sources: String, poll: String = "50ms", extra: String = "", sinks: String = "") throws {
        self.dir = dir
        output = dir + "/out.json"
        textfile = dir + "/aocpipe.prom"
        log = dir + "/follow.log"
        pipeline = dir + "/follow.yaml"
        try """
            name: follow-test
            timezone: Asia/Bangkok
            sources:
            \(sources)
            follow: { poll: \(poll), emit_every: 100ms }
            checkpoint: { path: \(dir)/state, every: 100ms }
            \(extra)
            sinks:
              - { type: file, format: json, path: \(output) }
              - { type: file, format: prometheus, windows: day, horizon: 60d, path: \(textfile) }
            \(sinks)
            """.write(toFile: pipeline, atomically: true, encoding: .utf8)
    }

    /// `fileSizeLimit`: `ulimit -f` (512-byte blocks) for the follower, as a full disk would;
    /// `openFiles`: `ulimit -n`.
    func start(environment: [String: String] = [:], arguments: [String] = [], fileSizeLimit: Int? = nil,
               openFiles: Int? = nil) throws {
        let binary = try #require(CommandLineTests.binary)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["follow", pipeline, "--log-level", "info"] + arguments
        let limits = (fileSizeLimit.map { ["ulimit -f \($0)"] } ?? []) + (openFiles.map { ["ulimit -n \($0)"] } ?? [])
        if !limits.isEmpty {
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", limits.joined(separator: " && ") + " && exec \"$0\" \"$@\"", binary] + p.arguments!
        }
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: log + ".\(runs)", contents: nil)
        p.standardError = FileHandle(forWritingAtPath: log + ".\(runs)")
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        process = p
        runs += 1
        // Ready once its first tick has run (signals are handled from then on).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: log + ".\(runs - 1)", encoding: .utf8), text.contains("ready") { return }
            usleep(10_000)
        }
        Issue.record("follow did not get ready")
    }

    /// Where `--listen 127.0.0.1:0` ended up, as its log says (`... listen=127.0.0.1:PORT`).
    func listenAddress() throws -> String {
        let text = try String(contentsOfFile: log + ".\(runs - 1)", encoding: .utf8)
        return try #require(text.split(separator: "\n").first { $0.contains("serving /metrics") }?
            .split(separator: "listen=").last.map { String($0.prefix { !$0.isWhitespace }) })
    }

    func kill9() {
        guard let p = process else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    /// SIGTERM, and the exit status.
    @discardableResult
    func stop() -> Int32 {
        guard let p = process else { return -1 }
        p.terminate()
        p.waitUntilExit()
        process = nil
        if p.terminationStatus != 0 || p.terminationReason != .exit {
            let text = (try? String(contentsOfFile: log + ".\(runs - 1)", encoding: .utf8)) ?? ""
            Issue.record("follow exited with \(p.terminationStatus) (\(p.terminationReason == .exit ? "exit" : "signal")): \(text.suffix(3000))")
        }
        return p.terminationStatus
    }

    var document: [String: Any]? {
        guard let data = FileManager.default.contents(atPath: output) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    /// Calls per day in the last emission.
    var callsPerDay: [String: Int] {
        guard let days = document?["days"] as? [[String: Any]] else { return [:] }
        var out: [String: Int] = [:]
        for d in days { if let day = d["day"] as? String, let c = d["calls"] as? Int, c > 0 { out[day] = c } }
        return out
    }

    /// Waits until the emitted calls per day equal `truth` (or a timeout); returns the last seen.
    func waitFor(_ truth: [String: Int], seconds: Double = 30) -> [String: Int] {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [String: Int] = [:]
        while Date() < deadline {
            last = callsPerDay
            if last == truth { return last }
            usleep(50_000)
        }
        return last
    }
}

/// An HTTP/1.0 GET over a plain socket (no python3 or Foundation networking needed): status
/// and body; status -1 when nothing answers (not listening yet). `url`: `http://HOST:PORT/PATH`,
/// HOST an IPv4 address.
func httpGet(_ url: String) throws -> (status: Int, body: String) {
    guard let response = try rawHTTP(url, request: { "GET \($0) HTTP/1.0\r\nHost: localhost\r\n\r\n" }) else { return (-1, "") }
    guard let split = response.range(of: "\r\n\r\n") else { return (-1, response) }
    let status = Int(response.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? -1
    return (status, String(response[split.upperBound...]))
}

/// A TCP connection to `host:port` (IPv4), or -1.
func connectTCP(_ host: String, _ port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, host, &address.sin_addr)
    let ok = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    if ok != 0 { close(fd); return -1 }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
}

/// Everything the server sends for `request(path)` until it closes the connection (nil: the
/// connection was refused).
func rawHTTP(_ url: String, request: (String) -> String) throws -> String? {
    let rest = url.hasPrefix("http://") ? String(url.dropFirst(7)) : url
    let slash = rest.firstIndex(of: "/") ?? rest.endIndex
    let hostPort = rest[..<slash], path = slash == rest.endIndex ? "/" : String(rest[slash...])
    let colon = try #require(hostPort.lastIndex(of: ":"))
    let host = String(hostPort[..<colon]), port = try #require(Int(hostPort[hostPort.index(after: colon)...]))
    let fd = connectTCP(host, port)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    let bytes = Array(request(path).utf8)
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        out += buffer[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}

/// Writes hotline CDR lines as Asterisk would, counting what it wrote per Bangkok day.
/// `gzipLevel`: as rsyslog's `zipLevel` writes, one gzip member sync-flushed after each
/// `write` (`finish` ends the member).
final class CDRWriter {
    let path: String
    var handle: FileHandle
    let zip: LogWriter?
    var inode: UInt64
    var truth: [String: Int] = [:]
    var time = CivilTime.epochSeconds(year: 2023, month: 11, day: 1, hour: 0, minute: 0, second: 0) - 7 * 3600
    var sequence = 0

    init(path: String, gzipLevel: Int? = nil) throws {
        self.path = path
        zip = try gzipLevel.map { try LogWriter(path: path, gzipLevel: $0) }
        if zip == nil { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        handle = try #require(FileHandle(forWritingAtPath: path))
        inode = InputFile.identity(of: path)!.inode
    }

    /// Appends `n` lines (one write each, as Asterisk flushes per call).
    func write(_ n: Int) {
        for _ in 0..<n {
            time += 37  // about 2,300 calls a day: several days per test
            writeLine(start: time)
            truth[Text.localDate(time, offset: 7 * 3600), default: 0] += 1
        }
        try! zip?.syncFlush()
    }

    /// Ends the gzip member (its trailer), as rsyslog does when it closes the file.
    func finish() throws { try zip?.finish() }

    /// Appends one line of a call starting at `start` (UTC seconds), left out of `truth`: a
    /// line dated by a wrong clock or a damaged record.
    func writeOutlier(start: Int) { writeLine(start: start) }

    /// One hotline line of a new call (an answered one, in Bangkok time), in one write.
    private func writeLine(start: Int) {
        sequence += 1
        let call = GeneratedCall(src: 812_000_000 + sequence, dst: "1441", dcontext: "aoc-hotline", start: start,
                                 answer: start + 10, end: start + 100, disposition: "ANSWERED", agent: 1, sequence: sequence)
        var line: [UInt8] = []
        call.append(to: &line, offset: 7 * 3600)
        if let zip { return try! zip.write(line) }
        handle.seekToEndOfFile()
        handle.write(Data(line))
    }

    /// After a rotation that moved the file, open the new one (Asterisk's `logger reload`).
    func reopenIfRotated() throws {
        guard let id = InputFile.identity(of: path), id.inode == inode else {
            try handle.close()
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            handle = try #require(FileHandle(forWritingAtPath: path))
            inode = InputFile.identity(of: path)!.inode
            return
        }
    }
}

/// Runs the real logrotate, with its own config and state file.
func logrotate(dir: String, log: String, mode: String) throws {
    let config = dir + "/logrotate.conf"
    try """
        \(log) {
            rotate 1000
            missingok
            notifempty
            \(mode)
        }
        """.write(toFile: config, atomically: true, encoding: .utf8)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/sbin/logrotate")
    p.arguments = ["-f", "-s", dir + "/logrotate.state", config]
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0, "logrotate \(mode)")
}
