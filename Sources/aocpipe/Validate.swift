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
        let text = try exitingOnError { try PipelinePreview(config: config, lines: lines).render() }
        try writeResult(text, to: "-")
    }
}
