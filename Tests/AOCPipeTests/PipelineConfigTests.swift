import Testing
@testable import AOCPipe

@Suite struct PipelineConfigTests {
    static let valid = """
        name: t
        timezone: Asia/Bangkok
        sources:
          - name: telephony
            format: asterisk-cdr
            paths: ["x/Master.csv*"]
            timezone: UTC
            hotline: "1441"
        aggregate: { sla: 10m, retention: 30d, lateness: 1h }
        limits: { max_line_bytes: 1000 }
        sinks:
          - { type: stdout, format: table }
        """

    func error(_ yaml: String) -> ConfigError? {
        do throws(ConfigError) {
            _ = try PipelineConfig.parse(yaml: yaml, file: "p.yaml")
            return nil
        } catch {
            return error
        }
    }

    @Test func readsEveryKey() throws {
        let c = try pipeline(Self.valid)
        #expect(c.name == "t")
        #expect(c.sources.count == 1)
        #expect(c.sources[0].zone.identifier == "UTC")
        #expect(c.slaMillis == 600_000 && c.retentionMillis == 30 * 86_400_000 && c.latenessMillis == 3_600_000)
        #expect(c.maxLineBytes == 1000)
        #expect(c.sinks.first == SinkSettings(target: .stdout, format: .table))
    }

    @Test func theShippedPipelinesAreValid() throws {
        let c = try PipelineConfig.load(path: packageRoot + "/Pipelines/aoc1441.yaml")
        #expect(c.sources.map(\.name) == ["telephony", "freeze"])
        let f = try PipelineConfig.load(path: packageRoot + "/Pipelines/aoc1441-follow.yaml")
        #expect(f.checkpointPath == "/var/lib/aocpipe/aoc1441.state")
        #expect(f.sinks.map(\.type) == ["file", "file", "file", "http"])
        #expect(f.sinks.last?.target == .http(listen: "127.0.0.1:9441"))
        #expect(f.sinks.last?.effectiveHorizonMillis == 7 * 86_400_000)
        #expect(f.sinks.first == SinkSettings(target: .file(path: "/var/lib/aocpipe/aoc1441.json"), format: .json))
    }

    @Test func unknownKeyNamesFileLineAndKey() {
        let e = error(Self.valid.replacingOccurrences(of: "    hotline: \"1441\"", with: "    hotline: \"1441\"\n    hotlien: \"1\""))
        #expect(e == ConfigError(file: "p.yaml", line: 9, key: "sources[0].hotlien", message: e?.message ?? ""))
        #expect(e?.description.hasPrefix("p.yaml:9: sources[0].hotlien: unknown key") == true)
        let top = error(Self.valid + "\nsinkz: []\n")
        #expect(top?.key == "sinkz")
        #expect(top?.line == 13)
    }

    @Test func badValuesAreRefusedWithTheirLine() {
        let badDuration = error(Self.valid.replacingOccurrences(of: "sla: 10m", with: "sla: ten minutes"))
        #expect(badDuration?.key == "aggregate.sla")
        #expect(badDuration?.line == 9)
        #expect(badDuration?.message.contains("not a duration") == true)
        let badZone = error(Self.valid.replacingOccurrences(of: "timezone: UTC", with: "timezone: Mars/Olympus"))
        #expect(badZone?.key == "sources[0].timezone")
        #expect(badZone?.line == 7)
        let badFormat = error(Self.valid.replacingOccurrences(of: "asterisk-cdr", with: "asterisk"))
        #expect(badFormat?.key == "sources[0].format")
        let noSources = error("name: x\n")
        #expect(noSources?.key == "sources")
        let notYAML = error("name: [unclosed\n")
        #expect(notYAML?.message.hasPrefix("not valid YAML") == true)
    }

    @Test func aGlobMatchingNothingIsAnError() throws {
        let c = try pipeline(Self.valid.replacingOccurrences(of: "x/Master.csv*", with: "/nonexistent-aocpipe/Master.csv*"), file: "p.yaml")
        #expect(throws: ConfigError.self) { try c.resolveFiles() }
        do throws(ConfigError) {
            _ = try c.resolveFiles()
        } catch {
            #expect(error.line == 4)
            #expect(error.key == "sources.telephony.paths")
            #expect(error.message.contains("matches no file"))
        }
    }
}
