import AOCPipe
import ArgumentParser
import Foundation

struct AOCPipeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aocpipe",
        abstract: "Streaming metrics for the AOC 1441 hotline from Asterisk CDR and account-freeze logs.",
        discussion: """
            Exit status: 0 success, 2 a usage or configuration error, 1 a run that could not finish.
            Progress and warnings go to stderr, results to stdout.
            """,
        version: AOCPipeVersion.string,
        subcommands: [Batch.self, Follow.self, Validate.self, Generate.self]
    )
}

/// Prints to stderr, as `aocpipe: MESSAGE`. A failed write cannot be reported there: it is
/// remembered, and the command exits 1 (`main.swift`).
func warn(_ message: String) {
    do {
        try StandardStream.error.write("aocpipe: " + message + "\n")
    } catch {
        standardErrorFailed.withLock { $0 = true }
    }
}

/// Whether writing to stderr failed at some point of the run.
let standardErrorFailed = Locked(false)

/// Writes a command's result to `path` (`-`: stdout; see `OutputFile`). A write error is one
/// line and exit 1; a closed pipe (`| head`) ends the run quietly, exit 0.
func writeResult(_ text: String, to path: String) throws {
    do {
        try OutputFile.write(text, to: path)
    } catch where error.isBrokenPipe {
        throw ExitCode.success
    } catch {
        warn("error: \(error)")
        throw ExitCode(1)
    }
}

/// Loads a pipeline file, turning a configuration error into exit status 2.
func loadPipeline(_ path: String) throws -> PipelineConfig {
    do {
        let config = try PipelineConfig.load(path: path)
        for w in config.warnings { warn("warning: \(path): \(w)") }
        return config
    } catch {
        warn("error: \(error)")
        throw ExitCode(2)
    }
}

/// Runs a step of a command, mapping errors to exit statuses: 2 for a configuration error
/// (found only once files are looked at, e.g. a glob matching nothing), 1 for anything else.
func exitingOnError<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ConfigError {
        warn("error: \(error)")
        throw ExitCode(2)
    } catch let error as CheckpointError {
        warn("error: \(error)")
        throw ExitCode(2)
    } catch {
        warn("error: \(error)")
        throw ExitCode(1)
    }
}

extension OutputFormat: ExpressibleByArgument {}
extension WindowSelection: ExpressibleByArgument {}
extension BatchRunner.ProgressMode: ExpressibleByArgument {}
