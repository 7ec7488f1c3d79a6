import Netlink
import Overlay
import Testing

/// The driver's lifecycle through the dry-run backend: what it builds, what it refuses, and that every
/// request can be repeated.
struct OverlayDriverTests {
    @Test func createNetworkBuildsTheNamespaceBridgeAndVXLANPort() async throws {
        let harness = DriverHarness()
        let driver = harness.driver()
        try await driver.start()
        try await driver.createNetwork(DriverHarness.network(options: ["weft.vni": "42"]))
        let session = try harness.session(vni: 42)
        let links = try session.links()
        let bridge = try #require(links.first { $0.name == "wbr-00002a" })
        let vxlan = try #require(links.first { $0.name == "wvx-00002a" })
        #expect(bridge.kind == "bridge" && bridge.isUp && bridge.mtu == 1450)
        #expect(vxlan.master == bridge.index && vxlan.isUp && vxlan.mtu == 1450)
        #expect(vxlan.vxlan == VXLANConfig(vni: VNI(42)!, local: IPAddress("192.0.2.1"), lowerDevice: nil))
        let printed = harness.take()
        #expect(printed.first == "mkdir -p /run/weft-test/netns && touch /run/weft-test/netns/00002a && unshare --net=/run/weft-test/netns/00002a true")
        // The VXLAN device is made in the host namespace and moved in.
        #expect(printed.contains { $0.hasPrefix("ip link add wvx-00002a mtu 1450 type vxlan id 42 local 192.0.2.1 dstport 4789") })
        #expect(printed.contains("ip link set dev wvx-00002a netns /run/weft-test/netns/00002a"))
        #expect(printed.contains("nsenter --net=/run/weft-test/netns/00002a bridge link set dev wvx-00002a learning off"))

        // Docker retries: the same request again changes nothing.
        try await driver.createNetwork(DriverHarness.network(options: ["weft.vni": "42"]))
        #expect(harness.take().isEmpty)
    }

    @Test func refusalsNameTheObjectAndTheCause() async throws {
        let harness = DriverHarness()
        let driver = harness.driver()
        try await driver.createNetwork(DriverHarness.network("aaaaaaaaaaaaXX", options: ["weft.vni": "4242"]))
        await #expect(throws: DriverError.vniInUse(vni: VNI(4242)!, network: "aaaaaaaaaaaaXX", subnet: subnet("10.1.0.0/24"))) {
            try await driver.createNetwork(DriverHarness.network("bbbbbbbbbbbbXX", subnet: "10.2.0.0/24", options: ["weft.vni": "4242"]))
        }
        #expect(
            DriverError.vniInUse(vni: VNI(4242)!, network: "aaaaaaaaaaaaXX", subnet: subnet("10.1.0.0/24")).description
                == "VNI 4242 is already used by network aaaaaaaaaaaa (subnet 10.1.0.0/24) on this host")
        await #expect(throws: DriverError.ipv6NotSupported(network: "v6")) {
            try await driver.createNetwork(NetworkCreation(id: "v6", ipv6Requested: true, ipv4Pools: [.init(subnet: subnet("10.3.0.0/24"), gateway: nil)]))
        }
        await #expect(throws: DriverError.noIPv4Pool(network: "none")) {
            try await driver.createNetwork(NetworkCreation(id: "none", ipv4Pools: []))
        }
        await #expect(throws: DriverError.invalidOption(name: "weft.vni", value: "0", reason: "a VNI is a number from 1 to 16777215")) {
            try await driver.createNetwork(DriverHarness.network("bad", subnet: "10.4.0.0/24", options: ["weft.vni": "0"]))
        }
        await #expect(throws: DriverError.invalidOption(name: "com.docker.network.driver.mtu", value: "9x", reason: "an MTU is a number from 68 to 65535")) {
            try await driver.createNetwork(DriverHarness.network("bad", subnet: "10.4.0.0/24", options: ["com.docker.network.driver.mtu": "9x"]))
        }
        await #expect(throws: DriverError.networkRedefined(network: "aaaaaaaaaaaaXX", existing: "VNI 4242, subnet 10.1.0.0/24, MTU 1450", requested: "VNI 4242, subnet 10.1.0.0/24, MTU 1400")) {
            try await driver.createNetwork(DriverHarness.network("aaaaaaaaaaaaXX", options: ["weft.vni": "4242", "weft.mtu": "1400"]))
        }
        await #expect(throws: DriverError.unknownNetwork("nope")) {
            _ = try await driver.createEndpoint(EndpointCreation(networkID: "nope", endpointID: "e1", address: IPv4Interface("10.1.0.2/24")!))
        }
        // A bare address (no prefix) never reaches the driver: the plugin's edge parses Docker's CIDR.
        #expect(IPv4Interface("10.1.0.2") == nil && IPv4Interface("10.1.0.2/33") == nil)
        await #expect(throws: DriverError.invalidAddress(object: "endpoint e1 (network subnet 10.1.0.0/24)", value: "10.9.0.2/24")) {
            _ = try await driver.createEndpoint(EndpointCreation(networkID: "aaaaaaaaaaaaXX", endpointID: "e1", address: IPv4Interface("10.9.0.2/24")!))
        }
        await #expect(throws: DriverError.unknownEndpoint(endpoint: "e9", network: "aaaaaaaaaaaaXX")) {
            _ = try await driver.join(network: "aaaaaaaaaaaaXX", endpoint: "e9")
        }
        // A refused network leaves nothing behind.
        #expect(await driver.network(id: "bad") == nil)
        #expect(!harness.backend.namespaceExists(KernelLayout(vni: VNI(4242)!, namespaceDirectory: "x").namespace))
    }

    @Test func mtuComesFromOptionsOrTheUnderlay() async throws {
        let harness = DriverHarness()
        let driver = harness.driver()
        try await driver.createNetwork(DriverHarness.network("n1", subnet: "10.1.0.0/24"))
        try await driver.createNetwork(DriverHarness.network("n2", subnet: "10.2.0.0/24", options: ["com.docker.network.driver.mtu": "1300"]))
        try await driver.createNetwork(DriverHarness.network("n3", subnet: "10.3.0.0/24", options: ["weft.mtu": "1200"]))
        #expect(await driver.network(id: "n1")?.mtu == 1450)
        #expect(await driver.network(id: "n2")?.mtu == 1300)
        #expect(await driver.network(id: "n3")?.mtu == 1200)
        // Without weft.vni, the VNI derives from the subnet: the same on every host.
        #expect(await driver.network(id: "n1")?.vni == NetworkPolicy.derivedVNI(for: subnet("10.1.0.0/24")))
        #expect(NetworkPolicy.derivedVNI(for: subnet("10.1.0.0/24")) != NetworkPolicy.derivedVNI(for: subnet("10.2.0.0/24")))
    }

    @Test func endpointLifecycleIsIdempotent() async throws {
        let harness = DriverHarness()
        let driver = harness.driver()
        try await driver.createNetwork(DriverHarness.network("n1", options: ["weft.vni": "7"]))
        let endpoint = "0123456789abcdef0123"
        let request = EndpointCreation(networkID: "n1", endpointID: endpoint, address: IPv4Interface("10.1.0.2/24")!)
        let first = try await driver.createEndpoint(request)
        #expect(first.macChosenByWeft)
        #expect(first.mac.bytes[0] & 0x03 == 0x02, "locally administered unicast")
        let retried = try await driver.createEndpoint(request)
        #expect(retried == first)
        let hostEnd = KernelLayout.hostEnd(endpoint: endpoint)
        let host = try harness.backend.session(in: .current)
        #expect(try host.link(.name(hostEnd))?.mac == first.mac)
        #expect(try host.link(.name(hostEnd))?.mtu == 1450)
        let network = try harness.session(vni: 7)
        let bridgeEnd = try #require(try network.link(.name(KernelLayout.bridgeEnd(endpoint: endpoint))))
        #expect(bridgeEnd.master == (try network.link("wbr-000007"))?.index && bridgeEnd.isUp)
        #expect(try await driver.join(network: "n1", endpoint: endpoint) == JoinInfo(interfaceName: hostEnd))

        // A MAC Docker chose is kept as it is.
        let given = try await driver.createEndpoint(
            EndpointCreation(networkID: "n1", endpointID: "fedcba9876543210", address: IPv4Interface("10.1.0.3/24")!, mac: MACAddress("02:42:0a:01:00:03")!))
        #expect(given.mac == MACAddress("02:42:0a:01:00:03") && !given.macChosenByWeft)

        try await driver.leave(network: "n1", endpoint: endpoint)
        try await driver.deleteEndpoint(network: "n1", endpoint: endpoint)
        try await driver.deleteEndpoint(network: "n1", endpoint: endpoint)
        #expect(try network.link(.name(KernelLayout.bridgeEnd(endpoint: endpoint))) == nil)
        #expect(try host.link(.name(hostEnd)) == nil)
        try await driver.deleteNetwork(id: "n1")
        try await driver.deleteNetwork(id: "n1")
        #expect(harness.store.current == PersistentState())
        #expect(!harness.backend.namespaceExists(KernelLayout(vni: VNI(7)!, namespaceDirectory: DriverHarness.host.namespaceDirectory).namespace))
    }

    @Test func restartAdoptsWhatIsThereAndRepairsWhatIsNot() async throws {
        let harness = DriverHarness()
        let first = harness.driver()
        try await first.createNetwork(DriverHarness.network("n1", options: ["weft.vni": "9"]))
        _ = try await first.createEndpoint(EndpointCreation(networkID: "n1", endpointID: "e1e1e1e1e1e1e1", address: IPv4Interface("10.1.0.2/24")!))
        _ = harness.take()

        // weft restarts with the kernel as it left it: nothing to change.
        let second = harness.driver()
        try await second.start()
        #expect(harness.take().isEmpty)
        #expect(await second.corrections == 0)

        // Someone removes the VXLAN port and adds a stray endpoint port and a stray namespace; the next start
        // puts the VXLAN port back and removes what belongs to nothing.
        let network = try harness.session(vni: 9)
        try network.perform([
            .deleteLink("wvx-000009"),
            .createLink(LinkSpec(name: "wvpstray", kind: .veth(peer: VethPeer(name: "stray-peer")))),
        ])
        _ = try harness.backend.createNamespace(.path("/run/weft-test/netns/0000ff"))
        _ = harness.take()
        let third = harness.driver()
        try await third.start()
        let printed = harness.take()
        #expect(printed.contains { $0.hasPrefix("ip link add wvx-000009") })
        #expect(printed.contains("nsenter --net=/run/weft-test/netns/000009 ip link del wvpstray"))
        #expect(printed.contains("umount /run/weft-test/netns/0000ff && rm /run/weft-test/netns/0000ff"))
        #expect(await third.corrections >= 4)
        let links = try network.links()
        #expect(links.contains { $0.name == "wvx-000009" && $0.isUp })
        #expect(!links.contains { $0.name == "wvpstray" })
        #expect(links.contains { $0.name == KernelLayout.bridgeEnd(endpoint: "e1e1e1e1e1e1e1") })
    }
}
