import Foundation
import Testing

/// weft's IPAM on its own: `weft daemon` on the host's /run/docker/plugins/weft.sock, and a network of Docker's
/// own bridge driver takes its addresses from it.
@Suite(
    "End to end: weft's IPAM under Docker's bridge driver",
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(3))
)
struct BridgeWithWeftIpamTests {
    @Test("network create --ipam-driver weft, containers get addresses from weft's pool, network rm releases it")
    func bridgeNetworkWithWeftIpam() async throws {
        try await Cluster.with(
            hosts: 1,
            beforeDockerd: { host in _ = try await host.startWeft(arguments: ["--log-level", "debug"]) }
        ) { cluster in
            let host = cluster["h1"]
            let subnet = "10.123.0.0/24"
            try await host.docker(
                "network", "create", "--driver", "bridge", "--ipam-driver", "weft", "--subnet", subnet, "weftipam")
            #expect(try await host.docker("network", "inspect", "--format", "{{.IPAM.Driver}}", "weftipam") == "weft")
            let subnets = try await host.docker(
                "network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "weftipam")
            #expect(subnets == subnet)

            // A container sees the address weft gave it on its interface, and the gateway weft gave the network
            // (the pool's first usable address) as its default route.
            let shown = try await host.docker(
                "run", "--rm", "--network", "weftipam", TestImage.reference, "sh", "-c",
                "ip -4 -o addr show dev eth0; ip route show default")
            #expect(shown.contains("inet 10.123.0."), "\(shown)")
            #expect(shown.contains("default via 10.123.0.1 dev eth0"), "\(shown)")

            // Two running containers: distinct addresses, both in the pool, neither the gateway.
            var addresses: [String] = []
            for name in ["ipam1", "ipam2"] {
                try await host.docker(
                    "run", "--detach", "--name", name, "--network", "weftipam", TestImage.reference, "sleep", "600")
                addresses.append(
                    try await host.docker(
                        "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name))
            }
            #expect(Set(addresses).count == 2, "\(addresses)")
            for address in addresses {
                #expect(address.hasPrefix("10.123.0.") && address != "10.123.0.1", "\(address)")
            }
            try await host.docker("exec", "ipam1", "ping", "-c", "1", "-W", "3", addresses[1])

            try await host.docker("rm", "--force", "ipam1", "ipam2")
            try await host.docker("network", "rm", "weftipam")
            let log = try #require(host.processLog(label: "weft"))
            for route in ["IpamDriver.RequestPool", "IpamDriver.RequestAddress", "IpamDriver.ReleaseAddress",
                "IpamDriver.ReleasePool"]
            {
                #expect(log.contains("\(route) 200 ok"), "weft's log has no successful \(route)")
            }
            // The pool really went back to weft: the same subnet can be taken again.
            try await host.docker(
                "network", "create", "--driver", "bridge", "--ipam-driver", "weft", "--subnet", subnet, "weftipam2")
            try await host.docker("network", "rm", "weftipam2")
        }
    }
}
