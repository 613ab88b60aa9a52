// swift-tools-version:6.1
// libFuzzer targets for aocpipe's parsers, decoders, checkpoint and pipeline files: a package
// of its own, so that building and testing aocpipe never builds them (they have no `main`;
// libFuzzer brings one). Each target calls `FuzzEntries` (Sources/AOCPipe/Fuzzing), which
// `swift test` also runs on every seed and every input ever found (Fuzz/Regressions).
//
//     Fuzz/run.sh TARGET [SECONDS]     # cdr, json, gzip, checkpoint, pipeline
//     Fuzz/campaign.sh [SECONDS]       # every target, two at a time
import PackageDescription

let targets = ["CDR", "JSON", "Gzip", "Checkpoint", "Pipeline"]

let package = Package(
    name: "AOCPipeFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "aocpipe", path: "..")],
    targets: targets.map { name in
        .executableTarget(
            name: "Fuzz\(name)",
            dependencies: [.product(name: "AOCPipe", package: "aocpipe")],
            path: "Sources/Fuzz\(name)"
        )
    },
    swiftLanguageModes: [.v6]
)
