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

/// Prints to stderr.
func warn(_ message: String) {
    FileHandle.standardError.write(Data(("aocpipe: " + message + "\n").utf8))
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
