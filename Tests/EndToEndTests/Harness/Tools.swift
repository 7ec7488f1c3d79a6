import Foundation
import Glibc

/// Where the harness finds its tools, and whether it may run at all.
///
/// Tools are looked up in the system directories only, never in `/usr/local`: a machine may carry a newer
/// `docker` CLI there (this one has Docker 28's in `/usr/local/bin`), and the tests are about Debian's
/// docker.io 20.10, CLI and engine.
enum Tools {
    static let systemDirectories = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    /// The absolute path of a system tool, or the bare name (so a failure names it) when it is missing.
    static func path(_ name: String) -> String {
        for directory in systemDirectories {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return name
    }

    static let ip = path("ip")
    static let nsenter = path("nsenter")
    static let unshare = path("unshare")
    static let sh = path("sh")
    static let tar = path("tar")
    static let sleep = path("sleep")
    static let dockerd = path("dockerd")
    /// ebtables-nft (from the iptables package): drops a host's frames on the underlay bridge (`Cluster.cutOff`).
    static let ebtables = path("ebtables-nft")
    /// iptables (nft backend): a firewall rule inside one host's network namespace.
    static let iptables = path("iptables")
    /// tcpdump: what crosses the underlay bridge (encrypted networks show no VXLAN).
    static let tcpdump = path("tcpdump")
    /// iproute2's `ss`: the sockets a host has open.
    static let ss = path("ss")
    /// Debian's docker.io CLI, always by full path.
    static let docker = "/usr/bin/docker"
    /// busybox-static: the image's only program, and `ping` between simulated hosts.
    static let busybox = path("busybox")
}

/// End-to-end tests need root (namespaces, mounts, cgroups, dockerd). Without root they are skipped, unless
/// `WEFT_REQUIRE_ROOT_TESTS=1` (as `make test` sets) makes them run and fail.
enum Privileges {
    static let isRoot = geteuid() == 0
    static let rootRequired = ProcessInfo.processInfo.environment["WEFT_REQUIRE_ROOT_TESTS"] == "1"
    static let canRunEndToEndTests = isRoot || rootRequired
}

/// The package's root directory and the built `weft` binary.
enum PackagePaths {
    /// `<root>/Tests/EndToEndTests/Harness/Tools.swift` → `<root>`.
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `weft` executable: `$WEFT_BINARY` if set, else the one built next to this test bundle (the same
    /// build directory, whatever `--build-path` was), else `<root>/.build/debug/weft`.
    static var weftBinary: String {
        if let explicit = ProcessInfo.processInfo.environment["WEFT_BINARY"], !explicit.isEmpty {
            return explicit
        }
        var candidates: [String] = []
        if let executable = Bundle.main.executableURL {
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent("weft").path)
        }
        candidates.append(root.appendingPathComponent(".build/debug/weft").path)
        return candidates.first { access($0, X_OK) == 0 } ?? candidates.last!
    }
}
