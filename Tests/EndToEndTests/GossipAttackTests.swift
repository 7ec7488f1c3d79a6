import Foundation
import TestSupport
import Testing

/// Crafted gossip datagrams from the underlay, from a place that is no member (the underlay bridge's own
/// namespace, 192.0.2.200), made by `weft-inject` with weft's own codecs: forged endpoint records (someone
/// else's container address pointed elsewhere, a clock of 2^64-1, a VTEP that is not the owner's, a record about
/// the receiver itself) and forged failures (dead and suspect at incarnation 2^32-1). Against a keyed cluster
/// sent in plaintext and with the stolen key; against an `--insecure-gossip` cluster in plaintext. Nothing may
/// change: every kernel's FDB and neighbour entries, the membership, a running ping; no weft may crash.
@Suite(
    "End to end: forged gossip from the underlay",
    .serialized,
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(5))
)
struct GossipAttackTests {
    static let attacker = "192.0.2.200"
    static var injector: String {
        URL(fileURLWithPath: PackagePaths.weftBinary).deletingLastPathComponent().appendingPathComponent("weft-inject").path
    }

    static func weftLog(_ host: TestHost) -> String {
        (try? String(contentsOf: host.directory.appendingPathComponent("weft.log"), encoding: .utf8)) ?? ""
    }

    /// Sends one crafted datagram to `host`'s gossip port from the underlay's namespace.
    static func inject(_ cluster: Cluster, to host: TestHost, key: String?, _ attack: [String]) async throws {
        let keyArguments = key.map { ["--key", $0] } ?? []
        try await Command.run(
            cluster.underlayCommand([injector, "\(host.underlayAddress):7946"] + keyArguments + attack)).check()
    }

    static func milliseconds() -> String { String(UInt64(Date().timeIntervalSince1970 * 1000)) }

    /// The hosts, their containers, a ping c2 → c1 while `attack` runs, then every check.
    static func underAttack(
        hosts: Int, weftArguments: [String], _ attack: @escaping @Sendable (Cluster, [OverlayContainer]) async throws -> Void
    ) async throws {
        try await Cluster.with(hosts: hosts, beforeDockerd: { host in
            _ = try await host.startWeft(arguments: ["--log-level", "debug"] + weftArguments + Cluster.joinArguments(for: host, hostCount: hosts))
        }) { cluster in
            for host in cluster.hosts {
                try await host.docker("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "10.97.0.0/24", "net1")
            }
            var containers: [OverlayContainer] = []
            for host in cluster.hosts {
                containers.append(try await .start(on: host, name: "c\(host.index)", network: "net1", address: "10.97.0.\(10 + host.index)"))
            }
            try await OverlayContainer.waitForMatrix(containers)
            try await Command.output(cluster.underlayCommand([Tools.ip, "address", "add", "\(attacker)/24", "dev", "br0"]))
            var before: [VXLANEntries] = []
            for host in cluster.hosts { before.append(try await host.vxlanEntries()) }
            let logOffsets = cluster.hosts.map { weftLog($0).count }
            let ping = try await RunningPing.start(from: containers[1], to: containers[0].address)

            try await attack(cluster, containers)

            // Every host still has its peers alive, its kernel entries as they were, and serves Docker.
            for (index, host) in cluster.hosts.enumerated() {
                let members = try await host.run([
                    PackagePaths.weftBinary, "gossip", "members", "--peer", "\(host.underlayAddress):7946",
                ] + (weftArguments.contains("--insecure-gossip") ? [] : ["--key-file", host.weftStateDirectory + "/gossip.key"])).check()
                #expect(members.output.split(separator: "\n").filter { $0.contains(" alive") }.count == hosts, "\(host.name): \(members.output)")
                #expect(try await host.vxlanEntries() == before[index], "\(host.name)'s kernel entries changed")
                let log = String(weftLog(host).dropFirst(logOffsets[index]))
                #expect(!log.contains("membership changed the overlay"), "\(host.name) took a forged failure:\n\(log.suffix(3000))")
                #expect(!log.contains("Fatal error") && !log.contains("arithmetic overflow"), "\(host.name) crashed:\n\(log.suffix(3000))")
            }
            let late = try await OverlayContainer.start(on: cluster.hosts[0], name: "late", network: "net1", address: "10.97.0.30")
            try await OverlayContainer.waitForMatrix([late], to: Array(containers.dropFirst()))
            let summary = try await ping.stop()
            // The request in flight at SIGINT counts as lost in busybox's summary (RunningPing): at most that one.
            #expect(summary.lost <= 1 && summary.transmitted > 0, "ping c2 → c1 during the attack: \(summary)")
            print("forged gossip (\(weftArguments.isEmpty ? "keyed" : weftArguments.joined(separator: " "))): ping c2 → c1 \(summary)")
        }
    }

    @Test("keyed cluster: plaintext forgeries are not even read; with the stolen key, forged records are refused by reason and forged failures ignored")
    func keyedCluster() async throws {
        try await Self.underAttack(hosts: 3, weftArguments: []) { cluster, containers in
            let (h1, h2) = (cluster["h1"], cluster["h2"])
            let key = h1.gossipKey
            let victim = containers[0].address
            for host in cluster.hosts {
                // Plaintext: dropped before any decoding.
                try await Self.inject(cluster, to: host, key: nil, ["endpoint", "42", victim, "02:66:66:66:66:66", Self.attacker, h2.underlayAddress, "max"])
                try await Self.inject(cluster, to: host, key: nil, ["dead", h1.underlayAddress, "max", h2.underlayAddress])
                // With the key: forged failures first, then forged records, each refused for its own reason. A
                // host takes its datagrams in order, so once it has logged the records' refusals it has also
                // handled the failures before them.
                try await Self.inject(cluster, to: host, key: key, ["dead", h1.underlayAddress, "max", h2.underlayAddress])
                try await Self.inject(cluster, to: host, key: key, ["suspect", h1.underlayAddress, "max", h2.underlayAddress])
                let vni = try await Self.vni(on: h2)
                try await Self.inject(cluster, to: host, key: key, ["endpoint", vni, victim, "02:66:66:66:66:66", h2.underlayAddress, h2.underlayAddress, Self.milliseconds()])
                try await Self.inject(cluster, to: host, key: key, ["endpoint", vni, victim, "02:66:66:66:66:66", Self.attacker, h2.underlayAddress, Self.milliseconds()])
                try await Self.inject(cluster, to: host, key: key, ["endpoint", vni, victim, "02:66:66:66:66:66", h2.underlayAddress, h2.underlayAddress, "max"])
                try await Self.inject(cluster, to: host, key: key, ["endpoint", vni, "10.97.0.99", "02:66:66:66:66:66", host.underlayAddress, host.underlayAddress, Self.milliseconds()])
            }
            for host in cluster.hosts {
                for reason in ["bad-signature", "vtep-mismatch", "clock-ahead", "about-this-host"] where !(host === h2 && reason != "clock-ahead" && reason != "about-this-host") {
                    try await Poll.until("\(host.name) to refuse the forged record (\(reason))", timeout: .seconds(10), interval: .milliseconds(100)) {
                        Self.weftLog(host).contains("reason=\(reason)")
                    }
                }
            }
        }
    }

    @Test("--insecure-gossip cluster: plaintext forged records are refused (signature), forged failures ignored, weft warns at start")
    func insecureCluster() async throws {
        try await Self.underAttack(hosts: 2, weftArguments: ["--insecure-gossip"]) { cluster, containers in
            let (h1, h2) = (cluster["h1"], cluster["h2"])
            #expect(Self.weftLog(h1).contains("gossip is NOT encrypted"))
            let vni = try await Self.vni(on: h2)
            for host in cluster.hosts {
                // Failures first: once the records after them are refused, they have been handled too.
                try await Self.inject(cluster, to: host, key: nil, ["dead", h1.underlayAddress, "max", h2.underlayAddress])
                try await Self.inject(cluster, to: host, key: nil, ["dead", h2.underlayAddress, "max", h1.underlayAddress])
                try await Self.inject(cluster, to: host, key: nil, ["endpoint", vni, containers[0].address, "02:66:66:66:66:66", h2.underlayAddress, h2.underlayAddress, Self.milliseconds()])
                try await Self.inject(cluster, to: host, key: nil, ["endpoint", vni, containers[0].address, "02:66:66:66:66:66", h2.underlayAddress, h2.underlayAddress, "max"])
            }
            try await Poll.until("h1 to refuse the forged record (signature)", timeout: .seconds(10), interval: .milliseconds(100)) {
                Self.weftLog(h1).contains("reason=bad-signature")
            }
            for host in cluster.hosts {
                try await Poll.until("\(host.name) to refuse the clock of 2^64-1", timeout: .seconds(10), interval: .milliseconds(100)) {
                    Self.weftLog(host).contains("reason=clock-ahead")
                }
            }
        }
    }

    /// The network's VNI as weft chose it (its namespace's name is the VNI in hex).
    static func vni(on host: TestHost) async throws -> String {
        let namespace = try #require(try await host.weftNamespaces().first)
        return String(try #require(UInt32(namespace, radix: 16)))
    }
}
