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
        .library(name: "Addressing", targets: ["Addressing"]),
        .library(name: "Netlink", targets: ["Netlink"]),
        .library(name: "Overlay", targets: ["Overlay"]),
        .library(name: "DockerPlugin", targets: ["DockerPlugin"]),
        .library(name: "MessagePack", targets: ["MessagePack"]),
        .library(name: "Gossip", targets: ["Gossip"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // libmnl and the Linux uapi headers, imported as a system library.
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        // C helpers for what Swift cannot import: macros, `_GNU_SOURCE` calls (setns, unshare), mount.
        .target(name: "CShim"),
        // IP addresses and subnets of both families, parsed strictly from text: the one address type every module
        // shares (Netlink encodes it as bytes, Gossip carries it for members, Overlay's IPAM allocates it).
        .target(name: "Addressing", swiftSettings: strictSwift),
        .target(name: "Netlink", dependencies: ["Addressing", "CMnl", "CShim"], swiftSettings: strictSwift),
        // weft's control API (status, peers, networks, diff) on its own root-only socket, and its models.
        .target(
            name: "Control",
            dependencies: [
                "Netlink", "Overlay", "Gossip", "DockerPlugin", .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ControlTests",
            dependencies: [
                "Control", "Overlay", "Gossip", "Netlink", "DockerPlugin", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift),
        // The daemon assembled from its configuration: the services `weft daemon` runs.
        .target(
            name: "WeftDaemon",
            dependencies: [
                "Netlink", "DockerPlugin", "Overlay", "Gossip", "Control",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "WeftDaemonTests",
            dependencies: ["WeftDaemon", "DockerPlugin", "Gossip", "Netlink", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift),
        .executableTarget(
            name: "weft",
            dependencies: [
                "WeftDaemon",
                "Control",
                "Netlink",
                "DockerPlugin",
                "Overlay",
                "Gossip",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "weft-bench",
            dependencies: ["Netlink", "Gossip", "Overlay", "DockerPlugin", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/weft-bench",
            swiftSettings: strictSwift
        ),
        // Crafted gossip datagrams for the end-to-end attack tests, built with weft's own codecs (test use only).
        .executableTarget(
            name: "weft-inject", dependencies: ["Gossip", "Overlay", "Netlink"], path: "Tests/Injector",
            swiftSettings: strictSwift),
        // Helpers the kernel and end-to-end tests share: running iproute2 as an oracle, throwaway namespaces.
        .target(
            name: "TestSupport",
            dependencies: [
                "Netlink", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport", swiftSettings: strictSwift),
        .testTarget(name: "NetlinkTests", dependencies: ["Netlink", "TestSupport"], swiftSettings: strictSwift),
        // The domain: networks, endpoints, VNI and MTU policy, IPAM, the reconciler, persistence.
        // Knows nothing of HTTP or Docker's JSON (its own state file is JSON, for operators to read).
        .target(
            name: "Overlay",
            dependencies: [
                "Addressing", "Netlink", "Gossip", "MessagePack", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift
        ),
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
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "OverlayTests",
            dependencies: [
                "Overlay", "Netlink", "Gossip", "TestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift),
        // End to end: real Docker engines (Debian's docker.io), each simulated host a network + mount namespace
        // with its own dockerd and weft; runs the built `weft` binary and links none of its modules (only
        // TestSupport, for running processes and bounded waits).
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport"], exclude: ["README.md"], swiftSettings: strictSwift),
        .testTarget(
            name: "DockerPluginTests",
            dependencies: [
                "DockerPlugin",
                "TestSupport",
                "Overlay",
                "Netlink",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Golden"],
            swiftSettings: strictSwift
        ),
        // The msgpack dialect of go-msgpack 0.5.5: byte-exact writer, lenient hostile-input-safe reader.
        .target(name: "MessagePack", swiftSettings: strictSwift),
        // memberlist protocol v5 node: the wire layer, transports (SwiftNIO UDP+TCP, in-memory), the node actor
        // (probe, Lifeguard suspicion, broadcast queue, push/pull) and the delegate API.
        .target(
            name: "Gossip",
            dependencies: [
                "Addressing",
                "MessagePack",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(name: "MessagePackTests", dependencies: ["MessagePack", "TestSupport"], swiftSettings: strictSwift),
        .testTarget(
            name: "GossipTests",
            dependencies: ["Gossip", "MessagePack", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift
        ),
    ]
)

// libFuzzer targets have no `main` of their own (libFuzzer links one in), so they only link with
// `--sanitize=fuzzer`. They exist only when WEFT_FUZZ=1 (set by `make fuzz`), which keeps them out of the
// default `swift build` and `swift test`.
if Context.environment["WEFT_FUZZ"] == "1" {
    // `swift build --sanitize=fuzzer` instruments only the fuzz executable's own module; the code under test
    // needs the coverage instrumentation too or libFuzzer runs blind.
    for target in package.targets where ["MessagePack", "Gossip", "Overlay"].contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-sanitize=fuzzer"])]
    }
    package.targets.append(
        .executableTarget(
            name: "weft-fuzz-gossip",
            dependencies: ["Gossip", "MessagePack", "Overlay", .product(name: "Logging", package: "swift-log")],
            path: "Fuzz/weft-fuzz-gossip",
            swiftSettings: strictSwift
        )
    )
    package.products.append(.executable(name: "weft-fuzz-gossip", targets: ["weft-fuzz-gossip"]))
}
