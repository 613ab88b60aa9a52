import AOCPipe
import ArgumentParser
import Foundation

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a pipeline file, then parse the first lines of each source and show what they became."
    )

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Option(help: "Lines to show per source.")
    var lines: Int = 5

    func run() throws {
        let config = try loadPipeline(pipeline)
        let text: String
        do {
            text = try PipelinePreview(config: config, lines: lines).render()
        } catch let error as ConfigError {
            warn("error: \(error)")
            throw ExitCode(2)
        } catch {
            warn("error: \(error)")
            throw ExitCode(1)
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
