import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// A real rsyslogd, foreground, with its own config, work directory and pid file (never the
/// system's), receiving lines over TCP on loopback and writing them with `zipLevel`.
final class Rsyslog {
    let dir: String
    let port: Int
    let config: String
    var process: Process?

    init(dir: String, file: String, options: String) throws {
        self.dir = dir
        port = Int.random(in: 20_000...60_000)
        config = dir + "/rsyslog.conf"
        try FileManager.default.createDirectory(atPath: dir + "/work", withIntermediateDirectories: true)
        try """
            global(workDirectory="\(dir)/work")
            module(load="imtcp")
            input(type="imtcp" address="127.0.0.1" port="\(port)")
            template(name="raw" type="string" string="%msg:2:$%\\n")
            action(type="omfile" file="\(file)" template="raw" \(options))
            """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    func start() throws {
        // Through python, to start rsyslogd with no signal blocked: a child inherits the
        // signal mask of the (Dispatch) thread that spawns it, and rsyslogd would never see
        // the SIGTERM that makes it close its file cleanly.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
            import os, signal, sys
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP): signal.signal(s, signal.SIG_DFL)
            os.execv('/usr/sbin/rsyslogd', ['rsyslogd'] + sys.argv[1:])
            """, "-n", "-f", config, "-i", dir + "/rsyslog.pid"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        process = p
        // Ready when it accepts connections.
        for _ in 0..<200 {
            if let fd = Self.connect(port) { close(fd); return }
            usleep(25_000)
        }
        Issue.record("rsyslogd did not start listening")
    }

    func kill9() {
        guard let p = process else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dir + "/rsyslog.pid")
        process = nil
    }

    func stop() {
        guard let p = process else { return }
        p.terminate()
        p.waitUntilExit()
        process = nil
    }

    static func connect(_ port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if ok != 0 { close(fd); return nil }
        return fd
    }

    /// Sends syslog messages over one TCP connection, a burst at a time.
    func send(_ lines: [String]) throws {
        let fd = try #require(Self.connect(port))
        defer { close(fd) }
        for line in lines {
            let bytes = Array("<14>aoc: \(line)\n".utf8)
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        }
    }
}

@Suite(.serialized) struct RsyslogTests {

    /// Hotline CDR lines (without their newline), starting on 1 Nov 2023; `sequence` numbers them.
    static func lines(_ n: Int, sequence: inout Int) -> [String] {
        (0..<n).map { _ in
            sequence += 1
            let t = CivilTime.epochSeconds(year: 2023, month: 11, day: 1, hour: 0, minute: 0, second: 0) - 7 * 3600 + sequence * 61
            let call = GeneratedCall(src: 812_000_000 + sequence, dst: "1441", dcontext: "aoc-hotline", start: t,
                                     answer: t + 5, end: t + 60, disposition: "ANSWERED", agent: 1, sequence: sequence)
            var bytes: [UInt8] = []
            call.append(to: &bytes, offset: 7 * 3600)
            return String(decoding: bytes.dropLast(), as: UTF8.self)
        }
    }

    /// Hotline calls per day among the complete lines that reached `file`, decoded by Python's
    /// zlib with its own resync (an implementation independent of aocpipe's).
    static func truth(_ file: String) throws -> [String: Int] {
        let script = """
            import csv, io, json, sys, zlib
            data = open(sys.argv[1], 'rb').read()
            out, i = b'', 0
            while True:
                j = data.find(b'\\x1f\\x8b\\x08', i)
                if j < 0: break
                d, part, pos = zlib.decompressobj(31), b'', j
                try:
                    while pos < len(data) and not d.eof:
                        saved = d.copy()
                        try:
                            part += d.decompress(data[pos:pos + 64]); pos += 64
                        except zlib.error:
                            d = saved  # again byte by byte, to keep what came before the error
                            for k in range(pos, min(pos + 64, len(data))):
                                part += d.decompress(data[k:k + 1]); pos = k + 1
                except zlib.error:
                    pass
                if d.eof:
                    out += part; i = pos - len(d.unused_data)
                else:
                    out += part[:part.rfind(b'\\n') + 1]; i = j + 1
            days = {}
            for row in csv.reader(io.StringIO(out.decode())):
                if len(row) in (16, 18, 21) and row[2] == '1441':
                    days[row[9][:10]] = days.get(row[9][:10], 0) + 1
            print(json.dumps(days))
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, file]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Int])
    }

    static func waitForFile(_ truth: () throws -> [String: Int], _ expected: Int) throws -> [String: Int] {
        // rsyslog writes asynchronously: wait until the lines sent are in the file.
        for _ in 0..<200 {
            let t = try truth()
            if t.values.reduce(0, +) >= expected { return t }
            usleep(25_000)
        }
        return try truth()
    }

    @Test(.enabled(if: SystemTool.rsyslogd.runs, SystemTool.rsyslogd.skipNote),
          .enabled(if: SystemTool.python3.runs, SystemTool.python3.skipNote),
          arguments: [("defaults", "zipLevel=\"6\""),
                      ("flushOnTXEnd", "zipLevel=\"6\" flushOnTXEnd=\"on\" asyncWriting=\"off\""),
                      ("veryRobustZip", "zipLevel=\"6\" veryRobustZip=\"on\" flushOnTXEnd=\"on\"")])
    func everyLineThatReachedTheFileIsCountedOnce(name: String, options: String) throws {
        try #require(SystemTool.rsyslogd.isInstalled, SystemTool.rsyslogd.missing)
        let dir = TempDir()
        defer { dir.remove() }
        let file = dir.path + "/messages.gz"
        let rsyslog = try Rsyslog(dir: dir.path, file: file, options: options)
        try rsyslog.start()
        defer { rsyslog.stop() }
        let f = try Follower(dir: dir.path, sources: """
              - { name: telephony, format: asterisk-cdr, paths: ["\(file)"] }
            """)
        var sent = 0, sequence = 0
        for _ in 0..<5 { try rsyslog.send(Self.lines(100, sequence: &sequence)); sent += 100; usleep(20_000) }
        try f.start()
        let live = name == "defaults" ? try Self.truth(file) : try Self.waitForFile({ try Self.truth(file) }, sent)
        #expect(f.waitFor(live) == live, "\(name): while rsyslog writes")

        // rsyslog dies mid-member and comes back: it appends a new member after the unfinished one.
        rsyslog.kill9()
        try rsyslog.start()
        for _ in 0..<5 { try rsyslog.send(Self.lines(100, sequence: &sequence)); usleep(20_000) }
        let afterCrash = name == "defaults" ? try Self.truth(file) : try Self.waitForFile({ try Self.truth(file) }, sent + 500)
        #expect(f.waitFor(afterCrash) == afterCrash, "\(name): after kill -9 and restart")

        // A clean close writes the trailer; nothing is counted twice.
        rsyslog.stop()
        let closed = try Self.truth(file)
        #expect(closed.values.reduce(0, +) > 0, "\(name): lines reached the file")
        #expect(f.waitFor(closed) == closed, "\(name): after a clean close")
        #expect(f.stop() == 0)
        #expect(f.callsPerDay == closed)
    }
}
