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
        .library(name: "MessagePack", targets: ["MessagePack"]),
        .library(name: "Gossip", targets: ["Gossip"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
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
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
        // The msgpack dialect of go-msgpack 0.5.5: byte-exact writer, lenient hostile-input-safe reader.
        .target(name: "MessagePack", swiftSettings: strictSwift),
        // memberlist protocol v5 node; for now the wire layer (messages, wrappers, packet and stream codecs).
        .target(
            name: "Gossip",
            dependencies: [
                "MessagePack",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(name: "MessagePackTests", dependencies: ["MessagePack"], swiftSettings: strictSwift),
        .testTarget(name: "GossipTests", dependencies: ["Gossip", "MessagePack"], swiftSettings: strictSwift),
    ]
)

// libFuzzer targets have no `main` of their own (libFuzzer links one in), so they only link with
// `--sanitize=fuzzer`. They exist only when WEFT_FUZZ=1 (set by `make fuzz`), which keeps them out of the
// default `swift build` and `swift test`.
if Context.environment["WEFT_FUZZ"] == "1" {
    // `swift build --sanitize=fuzzer` instruments only the fuzz executable's own module; the code under test
    // needs the coverage instrumentation too or libFuzzer runs blind.
    for target in package.targets where ["MessagePack", "Gossip"].contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-sanitize=fuzzer"])]
    }
    package.targets.append(
        .executableTarget(
            name: "weft-fuzz-gossip",
            dependencies: ["Gossip", "MessagePack"],
            path: "Fuzz/weft-fuzz-gossip",
            swiftSettings: strictSwift
        )
    )
    package.products.append(.executable(name: "weft-fuzz-gossip", targets: ["weft-fuzz-gossip"]))
}
