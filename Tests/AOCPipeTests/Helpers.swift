import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// A fresh temporary directory, removed when the value is dropped... by the caller (`remove()`).
struct TempDir {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "aocpipe-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String, _ bytes: [UInt8]) -> String {
        let p = path + "/" + name
        try! FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    func file(_ name: String, _ text: String) -> String { file(name, Array(text.utf8)) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Root of the package (for SampleLogs and the built binary).
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// gzip of `text` as one member, through the project's own writer.
func gzipMember(_ bytes: [UInt8], level: Int = 6) -> [UInt8] {
    let dir = TempDir()
    defer { dir.remove() }
    let path = dir.path + "/m.gz"
    let w = try! LogWriter(path: path, gzipLevel: level)
    try! w.write(bytes)
    try! w.finish()
    return Array(FileManager.default.contents(atPath: path)!)
}

func gzipMember(_ text: String) -> [UInt8] { gzipMember(Array(text.utf8)) }

/// Parses one line with a parser (a `String` in, an outcome out).
func parse<P: LineParser>(_ parser: inout P, _ line: String) -> ParseOutcome {
    var bytes = Array(line.utf8)
    return bytes.withUnsafeMutableBytes { parser.parse(UnsafeRawBufferPointer($0)) }
}

/// Collects what a framer delivers.
struct CollectingSink: LineSink {
    var lines: [String] = []
    var offsets: [Int] = []
    var broken: [(MalformedReason, Int)] = []

    mutating func line(_ bytes: UnsafeRawBufferPointer, offset: Int) {
        lines.append(String(decoding: bytes, as: UTF8.self))
        offsets.append(offset)
    }

    mutating func brokenLine(_ reason: MalformedReason, offset: Int) {
        broken.append((reason, offset))
    }
}

/// Decodes a whole file through `Decoding.decoder`, with the given read and output sizes.
func decodeAll(_ path: String, readSize: Int, outSize: Int) throws -> (text: [UInt8], gaps: Int, damage: [DecodeDamage]) {
    let file = try InputFile(path: path)
    let decoder = try Decoding.decoder(for: file, readSize: readSize)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: outSize, alignment: 1)
    defer { buffer.deallocate() }
    var out: [UInt8] = []
    var gaps = 0
    while true {
        let (n, gap) = try decoder.read(into: buffer)
        out += buffer[0..<n]
        if gap { gaps += 1 }
        if n == 0 && !gap { break }
    }
    return (out, gaps, decoder.damage)
}

/// A pipeline over files already written, parsed from YAML like a user's.
func pipeline(_ yaml: String, file: String = "test.yaml") throws -> PipelineConfig {
    try PipelineConfig.parse(yaml: yaml, file: file)
}

let bangkok = Zone(identifier: "Asia/Bangkok")!

/// A system tool that some tests run for real (from a Debian package). Where it is missing,
/// those tests are skipped, naming the package, so `swift test` works on a machine with only
/// Swift and zlib; with `AOCPIPE_REQUIRE_TOOLS` set (`.ci/run` sets it) they run and fail.
struct SystemTool: Sendable {
    let path: String
    let package: String

    static let logrotate = SystemTool(path: "/usr/sbin/logrotate", package: "logrotate")
    static let rsyslogd = SystemTool(path: "/usr/sbin/rsyslogd", package: "rsyslog")
    static let promtool = SystemTool(path: "/usr/bin/promtool", package: "prometheus")
    static let prometheus = SystemTool(path: "/usr/bin/prometheus", package: "prometheus")
    /// Decodes rsyslog's gzip files independently of aocpipe, for the expected counts.
    static let python3 = SystemTool(path: "/usr/bin/python3", package: "python3")

    static var required: Bool { ProcessInfo.processInfo.environment["AOCPIPE_REQUIRE_TOOLS"] != nil }
    /// `AOCPIPE_HIDE_TOOLS`: act as on a machine without them (`.ci/run` checks that the tests
    /// that need them skip, naming the package).
    static var hidden: Bool { ProcessInfo.processInfo.environment["AOCPIPE_HIDE_TOOLS"] != nil }

    var isInstalled: Bool { !Self.hidden && FileManager.default.isExecutableFile(atPath: path) }
    /// Whether a test that needs it runs: it is installed, or it is required (and fails then).
    var runs: Bool { isInstalled || Self.required }
    var skipNote: Comment { Comment(rawValue: "needs \(path) (apt-get install \(package); .ci/run does)") }
    var missing: Comment { Comment(rawValue: "\(path) is missing: apt-get install \(package) (.ci/run does)") }
}

/// What in `bytes` looks like personal data from the sample or generated logs (the first 5
/// found): runs of 9 or more digits (caller numbers), account strings (`xxx-x-x1234-x`), CDR
/// caller ids (`"Caller"`). Case ids (`AOC-...`) are the hotline's own, not personal.
func personalData(in bytes: [UInt8]) -> [String] {
    var found: [String] = []
    var run = 0
    for (i, b) in bytes.enumerated() {
        if b >= 0x30 && b <= 0x39 { run += 1; continue }
        if run >= 9 { found.append(String(decoding: bytes[(i - run)..<i], as: UTF8.self)) }
        run = 0
    }
    if run >= 9 { found.append(String(decoding: bytes.suffix(run), as: UTF8.self)) }
    let text = String(decoding: bytes.map { $0 < 0x80 ? $0 : 0x3F }, as: UTF8.self)
    for marker in ["xxx-x-", "Caller"] {
        found += text.components(separatedBy: marker).dropFirst().map { _ in marker }
    }
    return Array(found.prefix(5))
}
