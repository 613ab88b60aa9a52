import AOCPipe
import AOCPipeSynthetic
import ArgumentParser
import Foundation

extension CDRStyle: ExpressibleByArgument {}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write synthetic logs: the hotline's first 14 days, or any size for performance tests.",
        discussion: """
            aocpipe generate --profile aoc1441-2023-11 --out SampleLogs
            aocpipe generate --profile synthetic --out /tmp/big --days 7 --calls-per-day 500000 --files 8
            The synthetic profile also writes truth.json (the generator's own counts) and pipeline.yaml.
            """
    )

    enum Profile: String, ExpressibleByArgument, CaseIterable {
        case aoc1441 = "aoc1441-2023-11"
        case synthetic
    }

    @Option(help: "aoc1441-2023-11 (the sample logs) or synthetic.")
    var profile: Profile

    @Option(help: "Directory to write into (created if missing; one that holds files only with --force).")
    var out: String

    @Flag(help: "Write into --out even if it holds files (logs of the same names are overwritten).")
    var force = false

    @Option(help: "Synthetic: number of days.")
    var days: Int = 7

    @Option(help: "Synthetic: calls per day (about 2% are calls to other numbers, which aocpipe skips).")
    var callsPerDay: Int = 100_000

    @Option(help: "Synthetic: first day, YYYY-MM-DD.")
    var start: String = "2024-01-01"

    @Option(help: "Synthetic: random seed (same options and seed give byte-identical files).")
    var seed: UInt64 = 1

    @Option(help: "Synthetic: files per log, written in parallel.")
    var files: Int = 1

    @Option(help: "Synthetic: gzip level 1-9, or 0 for plain text.")
    var gzip: Int = 6

    @Option(help: "How calls are logged: callcentre (an IVR, a queue ringing agents, misses, retries, abandons, voicemail, transfers: several lines a call) or simple (one line a call).")
    var cdrStyle: CDRStyle = .callcentre

    @Option(help: "CDR columns: 18 (cdr.conf loguniqueid, loguserfield) or 21 (newcdrcolumns too: linkedid; adds Local-channel legs).")
    var cdrColumns: Int = 18

    func validate() throws {
        guard days >= 1, days <= 36_500 else { throw ValidationError("--days must be between 1 and 36500") }
        guard callsPerDay >= 0 else { throw ValidationError("--calls-per-day must not be negative") }
        guard files >= 1, files <= 10_000 else { throw ValidationError("--files must be between 1 and 10000") }
        guard (0...9).contains(gzip) else { throw ValidationError("--gzip must be 0 (plain) to 9") }
        guard Self.parseDay(start) != nil else { throw ValidationError("--start must be a date YYYY-MM-DD") }
        guard cdrColumns == 18 || cdrColumns == 21 else { throw ValidationError("--cdr-columns must be 18 or 21") }
    }

    static func parseDay(_ s: String) -> Int? {
        let parts = s.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1...12).contains(parts[1]),
              (1...CivilTime.daysInMonth(year: parts[0], month: parts[1])).contains(parts[2]) else { return nil }
        return CivilTime.daysFromCivil(year: parts[0], month: parts[1], day: parts[2])
    }

    func run() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                warn("error: --out \(out) is a file, not a directory")
                throw ExitCode(2)
            }
            let held = ((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []).sorted()
            if !held.isEmpty && !force {
                warn("error: --out \(out) holds \(held.count) entr\(held.count == 1 ? "y" : "ies") (\(held.prefix(3).joined(separator: ", "))\(held.count > 3 ? ", ..." : "")): "
                    + "generated logs would overwrite or mix with them; give a new or empty directory, or --force")
                throw ExitCode(2)
            }
        }
        let truth: GeneratorTruth
        do {
            switch profile {
            case .aoc1441:
                truth = try AOC1441Profile.generate(outDir: out, style: cdrStyle, columns: cdrColumns)
            case .synthetic:
                var p = SyntheticProfile()
                p.days = days
                p.callsPerDay = callsPerDay
                p.startDay = Self.parseDay(start)!
                p.seed = seed
                p.files = files
                p.gzipLevel = gzip == 0 ? nil : gzip
                p.cdrStyle = cdrStyle
                p.cdrColumns = cdrColumns
                truth = try p.generate(outDir: out)
            }
        } catch {
            warn("error: \(error)")
            throw ExitCode(1)
        }
        warn("wrote \(truth.files.count) files to \(out): \(truth.calls) hotline calls, \(truth.accountsFrozen) accounts frozen")
    }
}
