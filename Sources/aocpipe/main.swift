import AOCPipe
import ArgumentParser
import Foundation

// One way out of the command line, in one style (`aocpipe: error: ...`): usage and
// configuration errors exit 2 (ArgumentParser's own default, 64, is not what the help says),
// a run that could not finish 1, and a run whose stderr could not be written 1 as well.
// A closed pipe is an EPIPE write error, handled where it happens, not a signal that kills.
signal(SIGPIPE, SIG_IGN)
// A file size limit (`ulimit -f`) is an EFBIG write error too, not a kill that loses the state.
signal(SIGXFSZ, SIG_IGN)
var command: ParsableCommand
do {
    command = try AOCPipeCommand.parseAsRoot()
} catch {
    if AOCPipeCommand.exitCode(for: error) == .success { AOCPipeCommand.exit(withError: error) }  // --help, --version
    warn("error: " + UsageError.message(for: error, arguments: Array(CommandLine.arguments.dropFirst())))
    exit(2)
}
do {
    try command.run()
} catch let code as ExitCode {
    exit(code.rawValue != 0 ? code.rawValue : (standardErrorFailed.withLock { $0 } ? 1 : 0))
} catch {
    switch AOCPipeCommand.exitCode(for: error) {
    case .success: AOCPipeCommand.exit(withError: error)  // the help command
    case .validationFailure:
        warn("error: " + UsageError.message(for: error, arguments: Array(CommandLine.arguments.dropFirst())))
        exit(2)
    default:
        warn("error: \(error)")
        exit(1)
    }
}
exit(standardErrorFailed.withLock { $0 } ? 1 : 0)
