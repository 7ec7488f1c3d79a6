import Foundation
import Logging
import Netlink
import Overlay
import TestSupport
import Testing

/// The driver against the real kernel: a test namespace stands for the host, two more for containers, and the
/// network's own namespace is made by the driver under a directory of the test's.
@Suite(.enabled(if: Privileges.canRunKernelTests, "needs root for network namespaces"))
struct KernelDriverTests {
    @Test func twoEndpointsOnOneHostReachEachOtherAndNothingIsLeft() async throws {
        try await DriverNamespaces.with("drv", containers: ["1", "2"]) { namespaces in
            let directory = namespaces.directory
            let backend = KernelBackend()
            let names = (host: namespaces.host, c1: namespaces.containers[0], c2: namespaces.containers[1])
            let host = HostSettings(advertiseAddress: IPAddress("192.0.2.1")!, underlayMTU: 1500, namespaceDirectory: directory)
            let driver = OverlayDriver(host: host, backend: backend, store: StateStore(inMemory: PersistentState()),
                                       logger: Logger(label: "test"), hostNamespace: .named(names.host))
            try await driver.start()
            try await driver.createNetwork(
                NetworkCreation(id: "net1", options: NetworkOptions(vni: VNI(77)), ipv4Pools: [.init(subnet: subnet("10.9.0.0/24"), gateway: nil)]))
            let e1 = try await driver.createEndpoint(EndpointCreation(networkID: "net1", endpointID: "aaaaaaaaaaaaaaaa", address: IPv4Interface("10.9.0.2/24")!))
            let e2 = try await driver.createEndpoint(EndpointCreation(networkID: "net1", endpointID: "bbbbbbbbbbbbbbbb", address: IPv4Interface("10.9.0.3/24")!))

            // The layout, as iproute2 sees it.
            let networkLinks = try IPRoute2.links(in: namespaces.network("00004d"))
            let vxlan = try #require(networkLinks.first { $0.ifname == "wvx-00004d" })
            #expect(vxlan.linkinfo?.info_data?.id == 77 && vxlan.master == "wbr-00004d" && vxlan.isUp)
            #expect(vxlan.linkinfo?.info_slave_data?.learning == false)
            #expect(networkLinks.filter { $0.master == "wbr-00004d" && $0.ifname.hasPrefix("wvp") }.count == 2)

            // Do what Docker does at Join: move each host end into its container and configure it.
            for (endpoint, container) in [(e1, names.c1), (e2, names.c2)] {
                let info = try await driver.join(network: "net1", endpoint: endpoint.id)
                try Shell.run(["ip", "-n", names.host, "link", "set", info.interfaceName, "netns", container])
                try Shell.run(["ip", "-n", container, "addr", "add", "\(endpoint.address)/24", "dev", info.interfaceName])
                try Shell.run(["ip", "-n", container, "link", "set", info.interfaceName, "up"])
                let inside = try #require(try IPRoute2.links(in: container).first { $0.ifname == info.interfaceName })
                #expect(inside.mtu == 1450)
                #expect(inside.address == "\(endpoint.mac)")
            }
            try Shell.run(["ip", "netns", "exec", names.c1, "ping", "-c", "1", "-W", "2", "10.9.0.3"])
            try Shell.run(["ip", "netns", "exec", names.c2, "ping", "-c", "1", "-W", "2", "10.9.0.2"])

            // Docker's teardown order: Leave, (it moves the interface back), DeleteEndpoint, DeleteNetwork.
            for endpoint in [e1, e2] {
                try await driver.leave(network: "net1", endpoint: endpoint.id)
                try await driver.deleteEndpoint(network: "net1", endpoint: endpoint.id)
            }
            #expect(try IPRoute2.links(in: names.c1).allSatisfy { $0.ifname == "lo" })
            try await driver.deleteNetwork(id: "net1")
            #expect((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] == [])
            #expect(try IPRoute2.links(in: names.host).allSatisfy { $0.ifname == "lo" })
        }
    }
}
