// swift-tools-version:6.2
import PackageDescription

/// Settings every Swift target shares: Swift 6 mode (strict concurrency) and warnings treated as errors
/// in CI through `make test`.
let strictSwift: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "weft",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "weft", targets: ["weft"]),
        .library(name: "Netlink", targets: ["Netlink"]),
        .library(name: "Overlay", targets: ["Overlay"]),
        .library(name: "DockerPlugin", targets: ["DockerPlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // libmnl and the Linux uapi headers, imported as a system library.
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        // C helpers for what Swift cannot import: macros, `_GNU_SOURCE` calls (setns, unshare), mount.
        .target(name: "CShim"),
        .target(name: "Netlink", dependencies: ["CMnl", "CShim"], swiftSettings: strictSwift),
        .executableTarget(
            name: "weft",
            dependencies: [
                "Netlink",
                "DockerPlugin",
                "Overlay",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "weft-bench",
            dependencies: ["Netlink"],
            path: "Benchmarks/weft-bench",
            swiftSettings: strictSwift
        ),
        .testTarget(name: "NetlinkTests", dependencies: ["Netlink"], swiftSettings: strictSwift),
        // The domain: IPAM (and later networks, endpoints, tables, reconciler). Knows nothing of HTTP or JSON.
        .target(name: "Overlay", swiftSettings: strictSwift),
        // The Docker remote-driver HTTP server on a Unix socket, its wire types and routes.
        .target(
            name: "DockerPlugin",
            dependencies: [
                "Overlay",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(name: "OverlayTests", dependencies: ["Overlay"], swiftSettings: strictSwift),
        // End to end: real Docker engines (Debian's docker.io), each simulated host a network + mount namespace
        // with its own dockerd and weft; runs the built `weft` binary, links none of its modules.
        .testTarget(name: "EndToEndTests", exclude: ["README.md"], swiftSettings: strictSwift),
        .testTarget(
            name: "DockerPluginTests",
            dependencies: [
                "DockerPlugin",
                "Overlay",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
    ]
)
