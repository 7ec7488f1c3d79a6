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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
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
    ]
)
