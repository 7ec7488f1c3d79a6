import Foundation
import Glibc
import TestSupport

/// The tools the harness runs, found by `Executables.path` (system directories only, never `/usr/local`).
enum Tools {
    static func path(_ name: String) -> String { Executables.path(name) }

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

/// The package's root directory and the built `weft` binary (`Executables`).
enum PackagePaths {
    static var root: URL { Executables.packageRoot }
    static var weftBinary: String { Executables.weft }
}
