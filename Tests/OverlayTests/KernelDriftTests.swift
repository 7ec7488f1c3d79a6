import Foundation
import Logging
import Netlink
import Overlay
import TestSupport
import Testing

/// `weft diff` against the real kernel: a link changed behind weft's back is reported with the commands that fix
/// it, and running those very commands makes the kernel match again.
@Suite(.enabled(if: Privileges.canRunKernelTests, "needs root for network namespaces"))
struct KernelDriftTests {
    @Test("a VXLAN port set down behind weft's back is a different link; the printed commands, run, make the diff empty")
    func printedCommandsFixTheDrift() async throws {
        try await DriverNamespaces.with("drift") { namespaces in
            let backend = KernelBackend()
            let host = HostSettings(
                advertiseAddress: IPAddress("192.0.2.1")!, underlayMTU: 1500, namespaceDirectory: namespaces.directory)
            let driver = OverlayDriver(host: host, backend: backend, store: StateStore(inMemory: PersistentState()),
                                       logger: Logger(label: "test"), hostNamespace: .named(namespaces.host))
            try await driver.start()
            try await driver.createNetwork(
                NetworkCreation(id: "net1", options: NetworkOptions(vni: VNI(78)), ipv4Pools: [.init(subnet: subnet("10.9.1.0/24"), gateway: nil)]))
            _ = try await driver.createEndpoint(EndpointCreation(networkID: "net1", endpointID: "cccccccccccccccc", address: IPv4Interface("10.9.1.2/24")!))
            let before = try await driver.drift()
            #expect(before.allSatisfy { $0.matches }, "\(before)")

            let network = namespaces.network("00004e")
            try Shell.run(["ip", "-n", network, "link", "set", "dev", "wvx-00004e", "down"])
            let drift = try #require(try await driver.drift(network: "78").first)
            #expect(drift.differences.count == 1, "\(drift)")
            let link = try #require(drift.differences.first)
            #expect(link.object == .link && link.change == .different && link.subject == "link wvx-00004e")
            #expect(link.commands.first == "nsenter --net=\(namespaces.directory)/00004e ip link set dev wvx-00004e up mtu 1450 master wbr-00004e",
                    "\(link.commands)")

            for command in link.commands { try Shell.run(["sh", "-c", command]) }
            let after = try await driver.drift()
            #expect(after.allSatisfy { $0.matches }, "\(after)")
            let vxlan = try #require(try IPRoute2.links(in: network).first { $0.ifname == "wvx-00004e" })
            #expect(vxlan.isUp && vxlan.mtu == 1450 && vxlan.master == "wbr-00004e")
            try await driver.deleteNetwork(id: "net1")
        }
    }
}
