// swift-tools-version:6.1
// Micro-benchmarks of aocpipe's stages (package-benchmark). A package of its own, so that
// building and testing aocpipe never builds the benchmark tooling:
//
//     cd Benchmarks && swift package benchmark
//
// Whole-process comparisons with other tools are in compare.sh; figures in BENCHMARKS.md.
import PackageDescription

let package = Package(
    name: "AOCPipeBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "aocpipe", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "Stages",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "AOCPipe", package: "aocpipe"),
                .product(name: "AOCPipeSynthetic", package: "aocpipe"),
            ],
            path: "Benchmarks/Stages",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
