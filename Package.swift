// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "aocpipe",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "aocpipe", targets: ["aocpipe"]),
        .library(name: "AOCPipe", targets: ["AOCPipe"]),
        .library(name: "AOCPipeSynthetic", targets: ["AOCPipeSynthetic"]),
    ],
    traits: [
        .trait(name: "ISAL", description: "Inflate gzip with ISA-L (Debian libisal-dev), about 3x zlib's speed."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
    ],
    targets: [
        .systemLibrary(
            name: "CISAL",
            pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "AOCPipe",
            dependencies: [
                "CZlib",
                .target(name: "CISAL", condition: .when(traits: ["ISAL"])),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.define("ISAL", .when(traits: ["ISAL"]))]
        ),
        // The generator of synthetic logs and of the sample logs: a target of its own, so that
        // the core library does not ship it.
        .target(
            name: "AOCPipeSynthetic",
            dependencies: ["AOCPipe", "CZlib"]
        ),
        // The HTTP endpoint (/metrics, /healthz) on SwiftNIO: a target of its own, so that the
        // core library and its tests build without NIO.
        .target(
            name: "AOCPipeServer",
            dependencies: [
                "AOCPipe",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "aocpipe",
            dependencies: [
                "AOCPipe",
                "AOCPipeServer",
                "AOCPipeSynthetic",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "AOCPipeTests",
            dependencies: ["AOCPipe", "AOCPipeSynthetic"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
