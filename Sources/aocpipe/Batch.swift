import AOCPipe
import ArgumentParser
import Foundation

struct Batch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reprocess every file of a pipeline once and print the windows.",
        discussion: "Example: aocpipe batch Pipelines/aoc1441.yaml --format thai"
    )

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Option(help: "Output format: \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: OutputFormat = .table

    @Option(help: "Windows to write: day, hour or all (default: all for json/jsonl, day otherwise).")
    var windows: WindowSelection?

    @Option(name: .shortAndLong, help: "Write to this file instead of stdout: replaced atomically (through a symlink, to its target); a device, FIFO or - is written directly.")
    var output: String?

    @Option(help: "Threads to use, for files in parallel and inside each (default: active processors).")
    var jobs: Int?

    @Option(help: "Progress bar on stderr: auto (when stderr is a terminal), always, never.")
    var progress: BatchRunner.ProgressMode = .auto

    @Option(help: "Where to write samples of malformed lines, 0600: they hold raw lines (default: the pipeline's quarantine.path; none when neither says).")
    var quarantine: String?

    @Option(help: "Checkpoint file: resume from it if present, keep it current while running (every checkpoint.every), so a run killed part-way resumes where it stopped.")
    var checkpoint: String?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        let config = try loadPipeline(pipeline)
        let outcome = try exitingOnError {
            try BatchRunner(config: config, jobs: jobs, progress: progress).run(checkpointPath: checkpoint)
        }
        if outcome.resumedFiles > 0 {
            warn("resumed from \(checkpoint ?? ""): \(outcome.resumedFiles) file(s) were already counted")
        }
        let report = outcome.report
        for w in outcome.warnings { warn("warning: \(w)") }
        for damage in report.input.damage { warn("warning: \(damage)") }
        for d in report.input.duplicates { warn("skipped \(d.path): \(d.why.phrase) \(d.sameAs), which is read") }
        var quarantineFailed = false
        if report.input.malformed > 0 {
            if let path = config.quarantineFile(override: quarantine) {
                do {
                    try Quarantine.write(outcome.samples, to: path)
                    warn("warning: \(Quarantine.summary(report.input)); samples in \(path)")
                } catch {
                    warn("error: \(Quarantine.summary(report.input)); \(error)")
                    quarantineFailed = true
                }
            } else {
                warn("warning: \(Quarantine.summary(report.input)); to keep samples, set quarantine.path or --quarantine")
            }
        }
        try writeResult(Renderer.render(report, as: format, windows: windows), to: output ?? "-")
        if quarantineFailed { throw ExitCode(1) }
    }
}
