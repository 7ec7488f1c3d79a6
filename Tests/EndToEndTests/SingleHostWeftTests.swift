import Foundation
import TestSupport
import Testing

/// weft as Docker's network and IPAM driver on one host: a real dockerd, `weft daemon` on its plugin socket,
/// real containers. Each test builds its own host, so they run in parallel.
@Suite(
    "End to end: weft on one Docker host",
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(4))
)
struct SingleHostWeftTests {
    static let startWeft: @Sendable (TestHost) async throws -> Void = { host in
        _ = try await host.startWeft(arguments: ["--log-level", "debug"])
    }

    static func address(of container: String, on network: String, in host: TestHost) async throws -> String {
        try await host.docker("inspect", "--format", "{{(index .NetworkSettings.Networks \"\(network)\").IPAddress}}", container)
    }

    /// What weft left in the host: its links in the host namespace, its network namespaces, its saved state.
    static func weftLeftovers(in host: TestHost) async throws -> [String] {
        var found: [String] = []
        let links = try await host.run([Tools.path("ip"), "-o", "link", "show"]).check().output
        found += links.split(separator: "\n").filter { $0.contains(": wve") || $0.contains(": wvx-") }.map(String.init)
        found += try await host.weftNamespaces().map { "namespace \($0)" }
        let state = try await host.run([PackagePaths.weftBinary, "state", "--state-dir", host.weftStateDirectory]).check().output
        if !state.contains("networks (0):") || !state.contains("IPAM pools (0):") { found.append(state) }
        return found
    }

    @Test("network lifecycle, reachability, MTU, connect/disconnect, restart, isolation, --ip, a full /29, nothing left")
    func networkLifecycle() async throws {
        try await Cluster.with(hosts: 1, beforeDockerd: Self.startWeft) { cluster in
            let host = cluster["h1"]
            try await host.docker("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "10.20.0.0/24", "net1")
            #expect(try await host.docker("network", "inspect", "--format", "{{.Driver}} {{.IPAM.Driver}}", "net1") == "weft weft")
            for name in ["c1", "c2"] {
                try await host.docker("run", "-d", "--name", name, "--network", "net1", TestImage.reference, "sleep", "600")
            }
            let c2 = try await Self.address(of: "c2", on: "net1", in: host)
            #expect(c2.hasPrefix("10.20.0."))
            try await host.docker("exec", "c1", "ping", "-c", "2", "-W", "3", c2)
            // The underlay is a veth with MTU 1500: VXLAN over IPv4 leaves 1450, set by weft on both veth ends.
            #expect(try await host.docker("exec", "c1", "cat", "/sys/class/net/eth0/mtu") == "1450")
            // weft's own kernel objects: a namespace per network holding the bridge and the VXLAN port.
            #expect(try await host.weftNamespaces().count == 1)

            // A second network is a segment of its own: no path from net1's containers into it.
            try await host.docker("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "10.21.0.0/24", "net2")
            try await host.docker("run", "-d", "--name", "c3", "--network", "net2", TestImage.reference, "sleep", "600")
            let c3 = try await Self.address(of: "c3", on: "net2", in: host)
            let isolated = try await host.dockerResult(["exec", "c1", "ping", "-c", "2", "-W", "1", c3])
            #expect(!isolated.succeeded, "net1 reached net2: \(isolated)")

            // connect and disconnect on a running container.
            try await host.docker("network", "connect", "net2", "c1")
            try await host.docker("exec", "c1", "ping", "-c", "1", "-W", "3", c3)
            try await host.docker("network", "disconnect", "net2", "c1")
            let interfaces = try await host.docker("exec", "c1", "ls", "/sys/class/net")
            #expect(interfaces.split(separator: "\n").filter { $0.hasPrefix("eth") }.count == 2, "\(interfaces)")

            // A restarted container gets a new endpoint and is reachable again.
            try await host.docker("restart", "-t", "0", "c2")
            let c2After = try await Self.address(of: "c2", on: "net1", in: host)
            try await host.docker("exec", "c1", "ping", "-c", "1", "-W", "3", c2After)

            // --ip is honoured.
            try await host.docker("run", "-d", "--name", "c4", "--network", "net1", "--ip", "10.20.0.77", TestImage.reference, "sleep", "600")
            #expect(try await Self.address(of: "c4", on: "net1", in: host) == "10.20.0.77")
            try await host.docker("exec", "c4", "ping", "-c", "1", "-W", "3", c2After)

            // A /29 holds the gateway and five containers; the sixth is refused with a reason.
            try await host.docker("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "10.29.0.0/29", "small")
            for index in 1...5 {
                try await host.docker("run", "-d", "--name", "s\(index)", "--network", "small", TestImage.reference, "sleep", "600")
            }
            let full = try await host.dockerResult(["run", "-d", "--name", "s6", "--network", "small", TestImage.reference, "sleep", "600"])
            #expect(!full.succeeded)
            #expect(full.stderr.contains("pool 10.29.0.0/29 has no free address"), "\(full.stderr)")

            // Everything removed: no weft link, namespace or state entry is left.
            try await host.docker("rm", "-f", "c1", "c2", "c3", "c4", "s1", "s2", "s3", "s4", "s5", "s6")
            for network in ["net1", "net2", "small"] { try await host.docker("network", "rm", network) }
            #expect(try await Self.weftLeftovers(in: host) == [])
        }
    }

    @Test("kill -9 of weft while containers ping: no ping lost, weft restarts with its state, later operations work")
    func weftKilledAndRestarted() async throws {
        try await Cluster.with(hosts: 1, beforeDockerd: Self.startWeft) { cluster in
            let host = cluster["h1"]
            try await host.docker("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "10.30.0.0/24", "net1")
            for name in ["c1", "c2"] {
                try await host.docker("run", "-d", "--name", name, "--network", "net1", TestImage.reference, "sleep", "600")
            }
            let c2 = try await Self.address(of: "c2", on: "net1", in: host)
            async let pinging = host.dockerResult(["exec", "c1", "ping", "-c", "25", "-i", "0.2", "-W", "1", c2], timeout: .seconds(30))
            let weft = try #require(host.process(label: "weft"))
            try await Poll.until("a few pings before the kill", timeout: .seconds(10)) {
                try await host.dockerResult(["exec", "c1", "ping", "-c", "1", "-W", "1", c2])
            }
            await weft.kill()
            _ = try await host.startWeft()
            let ping = try await pinging
            #expect(ping.succeeded, "\(ping)")
            #expect(ping.stdout.contains("25 packets transmitted, 25 packets received"), "\(ping.stdout)")
            // weft came back with its state: the network is still served, new containers join it.
            try await host.docker("run", "-d", "--name", "c3", "--network", "net1", TestImage.reference, "sleep", "600")
            let c3 = try await Self.address(of: "c3", on: "net1", in: host)
            #expect(c3 != c2)
            try await host.docker("exec", "c3", "ping", "-c", "1", "-W", "3", c2)
            let log = try #require(host.process(label: "weft")).log()
            #expect(!log.contains("corrected kernel state"), "a clean restart changed the kernel:\n\(log)")
            try await host.docker("rm", "-f", "c1", "c2", "c3")
            try await host.docker("network", "rm", "net1")
            #expect(try await Self.weftLeftovers(in: host) == [])
        }
    }

    @Test("dockerd stopped and started again: the containers, started again, reach each other")
    func dockerdRestarted() async throws {
        try await Cluster.with(hosts: 1, beforeDockerd: Self.startWeft) { cluster in
            let host = cluster["h1"]
            try await host.docker("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "10.40.0.0/24", "net1")
            for name in ["c1", "c2"] {
                try await host.docker("run", "-d", "--name", name, "--network", "net1", TestImage.reference, "sleep", "600")
            }
            #expect(await host.stopDockerd() != .alreadyExited)
            try await host.startDockerd()
            try await host.docker("start", "c1", "c2")
            let c2 = try await Self.address(of: "c2", on: "net1", in: host)
            try await host.docker("exec", "c1", "ping", "-c", "2", "-W", "3", c2)
            try await host.docker("rm", "-f", "c1", "c2")
            try await host.docker("network", "rm", "net1")
            #expect(try await Self.weftLeftovers(in: host) == [])
        }
    }
}
