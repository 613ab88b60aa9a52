import Foundation
import Testing
@testable import AOCPipe
@testable import AOCPipeSynthetic

/// The report as Prometheus metrics, checked by Prometheus's own tools: `promtool check
/// metrics` on the exposition, and a backfill of the OpenMetrics output read back by a real
/// Prometheus server (Debian's `prometheus` package; `.ci/run` installs it).
@Suite struct PrometheusTests {
    static let promtool = "/usr/bin/promtool", prometheus = "/usr/bin/prometheus"

    /// Runs a program to its end: exit status, standard output and error.
    static func run(_ path: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        try p.run()
        if let input { inp.fileHandleForWriting.write(Data(input.utf8)) }
        try inp.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func exposesEveryWindowAndWhatWasRead() throws {
        let text = Renderer.render(try EndToEndTests.sampleReport(), as: .prometheus)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for (day, published) in AOC1441Profile.published.enumerated() {
            let start = "2023-11-\(Text.pad(day + 1, 2))"
            #expect(lines.contains("aocpipe_window_calls{window=\"day\",start=\"\(start)\"} \(published.calls)"))
            #expect(lines.contains("aocpipe_window_accounts_frozen{window=\"day\",start=\"\(start)\"} \(published.frozen)"))
        }
        // The hours of 1 November add up to the day's published count.
        let firstDayHours = lines.filter { $0.hasPrefix("aocpipe_window_calls{window=\"hour\",start=\"2023-11-01T") }
        #expect(firstDayHours.reduce(0) { $0 + Int($1.split(separator: " ").last!)! } == AOC1441Profile.published[0].calls)
        // The call centre's sample logs: more CDR lines than calls, all of them records.
        #expect(lines.contains("aocpipe_source_records_total{source=\"telephony\"} 179861"))
        #expect(lines.contains("aocpipe_source_call_lines_total{source=\"telephony\"} 179861"))
        // Every family is announced once, before its samples.
        let families = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(Set(families).count == families.count)
        // No personal data: no caller or account numbers in any label or value.
        #expect(!text.contains("08123"))
    }

    @Test func aHorizonBoundsTheWindowsShown() throws {
        // Watermark 2023-11-14T23:54:55+07:00: three days back is 11 November 23:54:55.
        let r = try EndToEndTests.sampleReport().within(horizonMillis: 3 * 86_400_000)
        #expect(r.days.map { Text.localDate($0.start, offset: $0.startOffset) } == ["2023-11-11", "2023-11-12", "2023-11-13", "2023-11-14"])
        #expect(r.hours.first.map { Text.localTimestamp($0.start, offset: $0.startOffset) } == "2023-11-11T23:00:00+07:00")
        let text = Renderer.render(r, as: .prometheus, windows: .day)
        #expect(!text.contains("start=\"2023-11-10\""))
        #expect(text.contains("aocpipe_window_accounts_frozen{window=\"day\",start=\"2023-11-14\"} 349\n"))
    }

    @Test func openMetricsSamplesCarryTheirWindowStart() throws {
        let report = try EndToEndTests.sampleReport()
        let text = Renderer.render(report, as: .openmetrics)
        #expect(text.hasSuffix("# EOF\n"))
        let first = report.days[0]
        #expect(text.contains("aocpipe_window_calls{window=\"day\",start=\"2023-11-01\"} 1310 \(first.start)\n"))
        #expect(!text.contains("aocpipe_source_"))  // what was read is no history: not backfilled
    }

    @Test(.enabled(if: SystemTool.promtool.runs, SystemTool.promtool.skipNote))
    func promtoolFindsNothingToSay() throws {
        try #require(SystemTool.promtool.isInstalled, SystemTool.promtool.missing)
        let text = Renderer.render(try EndToEndTests.sampleReport(), as: .prometheus)
        let check = try Self.run(Self.promtool, ["check", "metrics"], input: text)
        #expect(check.status == 0, "\(check.out)\(check.err)")
        #expect(check.out.isEmpty && check.err.isEmpty, "\(check.out)\(check.err)")
    }

    @Test(.enabled(if: SystemTool.promtool.runs && SystemTool.prometheus.runs, SystemTool.prometheus.skipNote))
    func backfilledArchivesAnswerPromQLWithThePublishedTable() throws {
        try #require(SystemTool.promtool.isInstalled, SystemTool.promtool.missing)
        try #require(SystemTool.prometheus.isInstalled, SystemTool.prometheus.missing)
        let dir = TempDir()
        defer { dir.remove() }
        let report = try EndToEndTests.sampleReport()
        let file = dir.file("backfill.om", Renderer.render(report, as: .openmetrics))
        let blocks = dir.path + "/data"
        let create = try Self.run(Self.promtool, ["tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h", file, blocks])
        #expect(create.status == 0, "\(create.err)")

        // A server on the blocks (no scraping), kept for a century: the data is from 2023.
        let config = dir.file("prometheus.yml", "global:\n  scrape_interval: 1h\nscrape_configs: []\n")
        let port = 19_000 + Int(getpid() % 1000)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Self.prometheus)
        server.arguments = ["--config.file=\(config)", "--storage.tsdb.path=\(blocks)", "--storage.tsdb.retention.time=100y",
                            "--web.listen-address=127.0.0.1:\(port)"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }

        // Accounts frozen per day, as an operator would ask for the whole archive.
        let query = #"sum by (start) (last_over_time(aocpipe_window_accounts_frozen{window="day"}[30d]))"#
        var byDay: [String: Int] = [:]
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            var url = URLComponents(string: "http://127.0.0.1:\(port)/api/v1/query")!
            url.queryItems = [URLQueryItem(name: "query", value: query), URLQueryItem(name: "time", value: String(report.days.last!.end))]
            // Over a plain socket: Foundation's HTTP client is a separate module.
            let get = try httpGet(url.url!.absoluteString)
            if get.status == 200,
               let doc = try? JSONSerialization.jsonObject(with: Data(get.body.utf8)) as? [String: Any],
               let results = (doc["data"] as? [String: Any])?["result"] as? [[String: Any]], !results.isEmpty {
                for r in results {
                    let start = (r["metric"] as? [String: String])?["start"] ?? "?"
                    byDay[start] = Int(((r["value"] as? [Any])?[1] as? String) ?? "") ?? -1
                }
                break
            }
            usleep(200_000)
        }
        let expected = Dictionary(uniqueKeysWithValues: AOC1441Profile.published.enumerated().map {
            ("2023-11-\(Text.pad($0.offset + 1, 2))", $0.element.frozen)
        })
        #expect(byDay == expected)
    }
}

/// Two agents, each following half of a generated data set, scraped by a real Prometheus:
/// a PromQL sum across the fleet gives the generator's own per-day truth.
@Suite(.serialized) struct FleetTests {
    @Test(.enabled(if: SystemTool.prometheus.runs, SystemTool.prometheus.skipNote))
    func prometheusSumsTwoAgentsToTheTruth() throws {
        try #require(SystemTool.prometheus.isInstalled, SystemTool.prometheus.missing)
        let dir = TempDir()
        defer { dir.remove() }
        var profile = SyntheticProfile()
        profile.days = 3
        profile.callsPerDay = 3000
        profile.files = 2
        let truth = try profile.generate(outDir: dir.path + "/logs")

        // Agent k follows the k-th file of each log.
        var agents: [Follower] = []
        var targets: [String] = []
        defer { for a in agents { a.stop() } }
        for k in 1...2 {
            let home = dir.path + "/agent\(k)"
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            let agent = try Follower(dir: home, sources: """
                  - { name: telephony, format: asterisk-cdr, paths: ["\(dir.path)/logs/telephony/Master.csv-000\(k)*"] }
                  - { name: freeze, format: freeze-jsonl, paths: ["\(dir.path)/logs/freeze/freeze.jsonl-000\(k)*"] }
                """)
            try agent.start(arguments: ["--listen", "127.0.0.1:0"])
            agents.append(agent)
            targets.append("\"\(try agent.listenAddress())\"")
        }

        let config = dir.file("prometheus.yml", """
            global: { scrape_interval: 1s, evaluation_interval: 1s }
            scrape_configs:
              - job_name: aocpipe
                static_configs: [{ targets: [\(targets.joined(separator: ", "))] }]
            """)
        let port = 19_500 + Int(getpid() % 400)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: PrometheusTests.prometheus)
        server.arguments = ["--config.file=\(config)", "--storage.tsdb.path=\(dir.path)/tsdb", "--web.listen-address=127.0.0.1:\(port)"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }

        func fleet(_ metric: String) throws -> [String: Int] {
            let url = "http://127.0.0.1:\(port)/api/v1/query?query="
                + "sum%20by%20(start)%20(\(metric)%7Bwindow%3D%22day%22%7D)"
            let r = try httpGet(url)
            guard r.status == 200, let doc = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any],
                  let results = (doc["data"] as? [String: Any])?["result"] as? [[String: Any]] else { return [:] }
            var out: [String: Int] = [:]
            for x in results {
                if let start = (x["metric"] as? [String: String])?["start"], let v = (x["value"] as? [Any])?[1] as? String, let n = Int(v), n > 0 {
                    out[start] = n
                }
            }
            return out
        }
        let calls = Dictionary(uniqueKeysWithValues: truth.days.map { ($0.day, $0.calls) }).filter { $0.value > 0 }
        let frozen = Dictionary(uniqueKeysWithValues: truth.days.map { ($0.day, $0.accountsFrozen) }).filter { $0.value > 0 }
        var gotCalls: [String: Int] = [:], gotFrozen: [String: Int] = [:]
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            gotCalls = try fleet("aocpipe_window_calls")
            gotFrozen = try fleet("aocpipe_window_accounts_frozen")
            if gotCalls == calls && gotFrozen == frozen { break }
            usleep(500_000)
        }
        #expect(gotCalls == calls)
        #expect(gotFrozen == frozen)
        // Each agent counted only its half: neither alone has the whole.
        #expect(agents.allSatisfy { $0.callsPerDay != calls })
        // And what each agent serves is clean for promtool.
        for target in targets {
            let body = try httpGet("http://\(target.dropFirst().dropLast())/metrics").body
            let check = try PrometheusTests.run(PrometheusTests.promtool, ["check", "metrics"], input: body)
            #expect(check.status == 0 && check.out.isEmpty && check.err.isEmpty, "\(check.out)\(check.err)")
        }
    }
}
