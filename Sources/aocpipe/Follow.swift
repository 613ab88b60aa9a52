import AOCPipe
import ArgumentParser
import Foundation
import Logging

struct Follow: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow the pipeline's logs as they grow and rotate; emit the windows as they change.",
        discussion: """
            Runs until SIGTERM or SIGINT, then reads what is left, writes the checkpoint and the
            last emission, and exits 0 (a second signal exits at once). Restarted with the same
            checkpoint, after a clean stop or a kill -9, it counts every line exactly once.
            Logs go to stderr; results to the pipeline's sinks (default: a table on stdout).
            """
    )

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Option(help: "Checkpoint file (default: the pipeline's checkpoint.path).")
    var checkpoint: String?

    @Option(help: "How often to emit, e.g. 10s (default: the pipeline's follow.emit_every).")
    var emitEvery: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() throws {
        let config = try loadPipeline(pipeline)
        var options = FollowRunner.Options()
        options.checkpointPath = checkpoint
        if let emitEvery {
            guard let ms = AOCPipe.Duration.parseMillis(emitEvery), ms > 0 else {
                warn("error: --emit-every \"\(emitEvery)\" is not a duration (e.g. 1s, 10s, 1m)")
                throw ExitCode(2)
            }
            options.emitEveryMillis = ms
        }
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "aocpipe")
        let runner = try exitingOnError { try FollowRunner(config: config, options: options, logger: logger) }
        try exitingOnError { try runner.run() }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
