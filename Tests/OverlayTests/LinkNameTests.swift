import Netlink
import Overlay
import Testing

/// Link names hold 11 characters of the endpoint ID: two endpoints never share one, and a link under an
/// endpoint's name that is not its own is refused, neither taken over nor removed.
struct LinkNameTests {
    @Test("an endpoint ID sharing its first 11 characters with another's is refused; the other's links stay")
    func sharedPrefixIsRefused() async throws {
        let harness = DriverHarness()
        let driver = harness.driver()
        try await driver.createNetwork(DriverHarness.network("n1", options: ["weft.vni": "7"]))
        try await driver.createNetwork(DriverHarness.network("n2", subnet: "10.2.0.0/24", options: ["weft.vni": "8"]))
        let first = try await driver.createEndpoint(EndpointCreation(networkID: "n1", endpointID: "0123456789aAAAA", address: IPv4Interface("10.1.0.2/24")!))
        let hostEnd = KernelLayout.hostEnd(endpoint: first.id)
        #expect(hostEnd == "wve0123456789a")

        for (network, address) in [("n1", "10.1.0.3/24"), ("n2", "10.2.0.3/24")] {
            await #expect(throws: DriverError.linkNameTaken(
                endpoint: "0123456789aBBBB", link: hostEnd,
                reason: "endpoint 0123456789aA on network n1 has it (both IDs begin with 0123456789a)")
            ) {
                _ = try await driver.createEndpoint(EndpointCreation(networkID: network, endpointID: "0123456789aBBBB", address: IPv4Interface(address)!))
            }
        }
        #expect(harness.store.current.endpoints.keys.sorted() == [first.id])
        let host = try harness.backend.session(in: .current)
        #expect(try host.link(.name(hostEnd))?.mac == first.mac)
        #expect(try harness.session(vni: 7).link(.name(KernelLayout.bridgeEnd(endpoint: first.id))) != nil)
        #expect(try await driver.join(network: "n1", endpoint: first.id) == JoinInfo(interfaceName: hostEnd))
        #expect(
            DriverError.linkNameTaken(endpoint: "0123456789aBBBB", link: hostEnd, reason: "r").description
                == "endpoint 0123456789aB: its interface name wve0123456789a is taken: r")
    }

    @Test("the clash check follows deleted endpoints, a removed network, a restart and records saved past the driver")
    func clashCheckFollowsTheRecords() async throws {
        let harness = DriverHarness()
        let driver = harness.driver()
        try await driver.createNetwork(DriverHarness.network("n1", options: ["weft.vni": "7"]))
        func create(_ id: String, _ address: String, on driver: OverlayDriver) async throws {
            _ = try await driver.createEndpoint(EndpointCreation(networkID: "n1", endpointID: id, address: IPv4Interface(address)!))
        }
        func refused(_ id: String, by other: String, on driver: OverlayDriver) async {
            await #expect(throws: DriverError.linkNameTaken(
                endpoint: id, link: KernelLayout.hostEnd(endpoint: id),
                reason: "endpoint \(other.prefix(12)) on network n1 has it (both IDs begin with \(id.prefix(11)))")
            ) { try await create(id, "10.1.0.99/24", on: driver) }
        }
        try await create("0123456789aAAAA", "10.1.0.2/24", on: driver)
        await refused("0123456789aBBBB", by: "0123456789aAAAA", on: driver)
        try await driver.deleteEndpoint(network: "n1", endpoint: "0123456789aAAAA")
        try await create("0123456789aBBBB", "10.1.0.3/24", on: driver)

        try await driver.deleteNetwork(id: "n1")
        try await driver.createNetwork(DriverHarness.network("n1", options: ["weft.vni": "7"]))
        try await create("0123456789aCCCC", "10.1.0.4/24", on: driver)

        // A restarted driver knows the endpoints of the state it starts from.
        let restarted = harness.driver()
        try await restarted.start()
        await refused("0123456789aDDDD", by: "0123456789aCCCC", on: restarted)
        // An endpoint saved by another writer of the state is seen too.
        try harness.store.update { state in
            state.endpoints["fedcba98765XXXX"] = EndpointRecord(
                id: "fedcba98765XXXX", networkID: "n1", address: address("10.1.0.5"), prefixLength: 24,
                mac: MACAddress(bytes: [0x02, 0x42, 0x0a, 0x01, 0, 5])!, macChosenByWeft: true)
        }
        await refused("fedcba98765YYYY", by: "fedcba98765XXXX", on: restarted)
        try await create("0123456789bEEEE", "10.1.0.6/24", on: restarted)
        #expect(harness.store.current.endpoints.keys.sorted() == ["0123456789aCCCC", "0123456789bEEEE", "fedcba98765XXXX"])
    }

    @Test("a link under the endpoint's name that is not its veth is refused and left as it is")
    func foreignLinksAreNotAdopted() async throws {
        let harness = DriverHarness()
        let driver = harness.driver()
        try await driver.createNetwork(DriverHarness.network("n1", options: ["weft.vni": "7"]))
        let host = try harness.backend.session(in: .current)
        let request = EndpointCreation(networkID: "n1", endpointID: "0123456789abcdef", address: IPv4Interface("10.1.0.2/24")!, mac: MACAddress("02:42:0a:01:00:02")!)
        let stray = MACAddress("02:00:00:00:00:99")!
        try host.perform(.createLink(LinkSpec(
            name: "wve0123456789a", kind: .veth(peer: VethPeer(name: "stray-peer")), mac: stray)))

        await #expect(throws: DriverError.linkNameTaken(
            endpoint: request.endpointID, link: "wve0123456789a",
            reason: "the host namespace has a veth with MAC 02:00:00:00:00:99, not this endpoint's veth (MAC 02:42:0a:01:00:02)")
        ) {
            _ = try await driver.createEndpoint(request)
        }
        #expect(try host.link("wve0123456789a")?.mac == stray)
        #expect(try host.link("stray-peer") != nil)
        #expect(harness.store.current.endpoints.isEmpty)

        // Under the bridge end's name in the network namespace: a bridge, not a veth.
        try host.perform(.deleteLink("wve0123456789a"))
        let network = try harness.session(vni: 7)
        try network.perform(.createLink(LinkSpec(name: "wvp0123456789a", kind: .bridge)))
        await #expect(throws: DriverError.self) {
            _ = try await driver.createEndpoint(request)
        }
        #expect(try network.link("wvp0123456789a")?.kind == "bridge")
        #expect(try host.link("wve0123456789a") == nil)
        #expect(harness.store.current.endpoints.isEmpty)

        // Once the name is free, the endpoint is made, and a retry adopts its own links.
        try network.perform(.deleteLink("wvp0123456789a"))
        let endpoint = try await driver.createEndpoint(request)
        #expect(try host.link("wve0123456789a")?.mac == endpoint.mac)
        #expect(try await driver.createEndpoint(request) == endpoint)
    }

    @Test("an endpoint ID that cannot be part of an interface name is refused")
    func invalidIDIsRefused() async throws {
        let harness = DriverHarness()
        let driver = harness.driver()
        try await driver.createNetwork(DriverHarness.network("n1", options: ["weft.vni": "7"]))
        await #expect(throws: DriverError.self) {
            _ = try await driver.createEndpoint(EndpointCreation(networkID: "n1", endpointID: "ab/cd", address: IPv4Interface("10.1.0.2/24")!))
        }
        #expect(harness.store.current.endpoints.isEmpty)
    }
}
