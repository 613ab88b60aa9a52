import AOCPipe
import AOCPipeServer
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
            SIGHUP reloads the pipeline file: checked first, refused (and logged) if it does not
            load or changes what the counts mean; SIGUSR1 and SIGUSR2 are ignored.
            Logs go to stderr; results to the pipeline's sinks (default: a table on stdout).
            """
    )

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Option(help: "Checkpoint file (default: the pipeline's checkpoint.path).")
    var checkpoint: String?

    @Option(help: "How often to emit, e.g. 10s (default: the pipeline's follow.emit_every).")
    var emitEvery: String?

    @Option(help: "Serve /metrics and /healthz on HOST:PORT (default: the pipeline's http sink; \(Defaults.listen) unless said).")
    var listen: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() throws {
        let config = try loadPipeline(pipeline)
        var emitEveryMillis: Int?
        if let emitEvery {
            if let problem = AOCPipe.Duration.problem(emitEvery) {
                warn("error: --emit-every: \(problem)")
                throw ExitCode(2)
            }
            emitEveryMillis = AOCPipe.Duration.parseMillis(emitEvery)
        }
        if let listen, case .failure(let problem) = ListenAddress.parse(listen) {
            warn("error: --listen: \(problem)")
            throw ExitCode(2)
        }
        // Crash tests make the process die inside a checkpoint write (see CrashPoint).
        let crashPoint = ProcessInfo.processInfo.environment["AOCPIPE_TEST_CRASH_IN_CHECKPOINT"].flatMap(CrashPoint.init(spec:))
        var settings = FollowSettings(config: config, checkpointPath: checkpoint, emitEveryMillis: emitEveryMillis,
                                      listen: listen, crashPoint: crashPoint)
        // Tests lose inotify batches as an overflow would: AOCPIPE_TEST_INOTIFY_DROP_EVERY=N.
        settings.inotifyDropEvery = ProcessInfo.processInfo.environment["AOCPIPE_TEST_INOTIFY_DROP_EVERY"].flatMap { Int($0) }
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "aocpipe")
        // Two services: the endpoint (when there is one) and the follower, started in that
        // order and stopped in the other.
        var server: MetricsServer?
        var store: MetricsStore?
        raiseDescriptorLimit(logger)
        if let address = settings.listen {
            store = MetricsStore()
            var limits = MetricsServer.Limits.forThisProcess
            // Tests shorten the endpoint's timeouts: AOCPIPE_TEST_HTTP_TIMEOUTS=HEADER,IDLE (durations).
            if let spec = ProcessInfo.processInfo.environment["AOCPIPE_TEST_HTTP_TIMEOUTS"] {
                let ms = spec.split(separator: ",").compactMap { AOCPipe.Duration.parseMillis(String($0)) }
                if ms.count == 2 { (limits.headerTimeout, limits.idleTimeout) = (.milliseconds(Int64(ms[0])), .milliseconds(Int64(ms[1]))) }
            }
            server = try exitingOnError { try MetricsServer(listen: address, store: store!, limits: limits) }
            logger.info("serving /metrics and /healthz", metadata: ["listen": "\(server!.address)"])
        }
        defer { server?.stop() }
        // SIGHUP: the same file and command line again.
        let (path, checkpoint, listen, emitMillis) = (pipeline, checkpoint, listen, emitEveryMillis)
        let reloader: @Sendable () throws -> (PipelineConfig, FollowSettings) = {
            let config = try PipelineConfig.load(path: path)
            for w in config.warnings { logger.warning("\(path): \(w)") }
            return (config, FollowSettings(config: config, checkpointPath: checkpoint, emitEveryMillis: emitMillis,
                                           listen: listen, crashPoint: nil))
        }
        let runner = try exitingOnError {
            try FollowRunner(config: config, settings: settings, metrics: store, logger: logger, reloader: reloader)
        }
        runner.run()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// A follower holds one descriptor per followed file: its soft limit is raised to the hard
/// one (as Go's runtime does), so a default `ulimit -n` of 1024 is not the ceiling where the
/// system allows more. Where it cannot be (a sandbox forbids it), the limit in force stays.
func raiseDescriptorLimit(_ logger: Logger) {
    if !raiseOpenFilesLimit() { logger.debug("open files limit stays", metadata: ["limit": "\(openFilesLimit().map(String.init) ?? "none")"]) }
}
