import Logging
import Netlink
import Overlay
import Testing

/// A dual-stack network (`--ipv6 --subnet 10.x/24 --subnet fd00:x::/64`) in the driver: the IPv6 subnet and
/// gateway kept with the network, each endpoint's IPv6 address kept, announced and checked, and other hosts'
/// IPv6 addresses programmed into the VXLAN device beside their IPv4 ones.
struct DualStackDriverTests {
    static let vni = VNI(45)!

    static func dualStack(_ id: String = "net6") throws -> NetworkCreation {
        NetworkCreation(id: id, options: NetworkOptions(vni: vni), ipv6Requested: true,
                        ipv4Pools: [.init(subnet: subnet("10.45.0.0/24"), gateway: address("10.45.0.1"))],
                        ipv6Pools: [.init(subnet: try IPv6Subnet(parsing: "fd00:45::/64"), gateway: IPv6Address("fd00:45::1"))])
    }

    @Test func theNetworkAndItsEndpointsKeepTheirIPv6Addresses() async throws {
        let harness = DriverHarness()
        let driver = harness.driver()
        try await driver.createNetwork(try Self.dualStack())
        let network = try #require(await driver.network(id: "net6"))
        #expect(network.subnet6?.description == "fd00:45::/64")
        #expect(network.gateway6 == IPv6Address("fd00:45::1"))
        // Created again the same way (Docker retries): the same network.
        try await driver.createNetwork(try Self.dualStack())

        let record = try await driver.createEndpoint(EndpointCreation(
            networkID: "net6", endpointID: "e1aaaaaaaaaaaa", address: IPv4Interface("10.45.0.2/24")!,
            address6: IPv6Interface("fd00:45::2/64")!))
        #expect(record.address6 == IPv6Address("fd00:45::2"))
        #expect(harness.store.current.endpoints["e1aaaaaaaaaaaa"]?.address6 == IPv6Address("fd00:45::2"))

        let outside = EndpointCreation(networkID: "net6", endpointID: "e2aaaaaaaaaaaa", address: IPv4Interface("10.45.0.3/24")!,
                                       address6: IPv6Interface("fd00:46::3/64")!)
        await #expect(throws: DriverError.invalidOption(
            name: "--ip6", value: "fd00:46::3", reason: "endpoint e2aaaaaaaaaa: outside the network's IPv6 subnet fd00:45::/64")) {
            _ = try await driver.createEndpoint(outside)
        }
        // An IPv4-only network takes no IPv6 address.
        try await driver.createNetwork(DriverHarness.network("net4", subnet: "10.46.0.0/24"))
        await #expect(throws: DriverError.self) {
            _ = try await driver.createEndpoint(EndpointCreation(
                networkID: "net4", endpointID: "e3aaaaaaaaaaaa", address: IPv4Interface("10.46.0.2/24")!,
                address6: IPv6Interface("fd00:45::3/64")!))
        }
        // --ipv6 without an IPv6 pool, or with two.
        await #expect(throws: DriverError.ipv6NotSupported(network: "bare")) {
            try await driver.createNetwork(NetworkCreation(id: "bare", ipv6Requested: true, ipv4Pools: [.init(subnet: subnet("10.47.0.0/24"), gateway: nil)]))
        }
        var two = try Self.dualStack("two")
        two.ipv6Pools.append(.init(subnet: try IPv6Subnet(parsing: "fd00:48::/64"), gateway: nil))
        await #expect(throws: DriverError.multipleIPv6Pools(network: "two", count: 2)) { try await driver.createNetwork(two) }
    }

    @Test func remoteIPv6AddressesAreProgrammedAndWithdrawnWithTheirEndpoint() async throws {
        let cluster = SimulatedCluster()
        let a = await cluster.add(SimulatedHost("a", vtep: "192.0.2.1"))
        let b = await cluster.add(SimulatedHost("b", vtep: "192.0.2.12"))
        let harness = DriverHarness()
        let driver = OverlayDriver(host: DriverHarness.host, backend: harness.backend, store: harness.store,
                                   logger: Logger(label: "test"), cluster: a)
        await a.markSynchronized()
        try await driver.createNetwork(try Self.dualStack())
        // This host's endpoint is announced with its IPv6 address.
        _ = try await driver.createEndpoint(EndpointCreation(
            networkID: "net6", endpointID: "e1aaaaaaaaaaaa", address: IPv4Interface("10.45.0.2/24")!,
            address6: IPv6Interface("fd00:45::2/64")!))
        #expect(await b.endpointTable.entries.values.compactMap(\.value).first?.address6 == IPv6Address("fd00:45::2"))

        let vtepB = IPAddress("192.0.2.12")!
        await b.announce(NetworkAnnouncement(vni: Self.vni, subnet: subnet("10.45.0.0/24"), host: "b", vtep: vtepB,
                                             subnet6: try IPv6Subnet(parsing: "fd00:45::/64")))
        let remote = EndpointAnnouncement(vni: Self.vni, endpointID: "r1", address: address("10.45.0.20"),
                                          mac: MACAddress("02:00:00:00:00:20")!, host: "b", vtep: vtepB,
                                          address6: IPv6Address("fd00:45::20"))
        await b.announce(remote)
        await driver.remoteChanged([Self.vni])
        let session = try harness.session(vni: Self.vni.value)
        let device = LinkReference.name(KernelLayout(vni: Self.vni, namespaceDirectory: "").vxlanName)
        let permanent = { try session.neighbours(device: device).filter { $0.state.contains(.permanent) } }
        #expect(Set(try permanent().map(\.address)) == [IPAddress("10.45.0.20")!, IPAddress("fd00:45::20")!])
        #expect(try permanent().allSatisfy { $0.mac == remote.mac })
        #expect(harness.take().contains { $0.contains("unsolicited neighbour advertisement") && $0.contains("fd00:45::20") })

        await b.withdraw(endpoint: remote.key)
        await driver.remoteChanged([Self.vni])
        #expect(try permanent().isEmpty)
    }

    /// A mixed underlay: a host advertising an IPv6 VTEP is not programmed into a VXLAN device whose local VTEP
    /// is IPv4 (the device sends over one family); hosts of the same family still are.
    @Test func hostsOnTheOtherUnderlayFamilyAreNotProgrammed() async throws {
        let cluster = SimulatedCluster()
        let a = await cluster.add(SimulatedHost("a", vtep: "192.0.2.1"))
        let b = await cluster.add(SimulatedHost("b", vtep: "2001:db8::12"))
        let c = await cluster.add(SimulatedHost("c", vtep: "192.0.2.13"))
        let harness = DriverHarness()
        let driver = OverlayDriver(host: DriverHarness.host, backend: harness.backend, store: harness.store,
                                   logger: Logger(label: "test"), cluster: a)
        await a.markSynchronized()
        try await driver.createNetwork(try Self.dualStack())
        for (state, name, vtep, index) in [(b, "b", "2001:db8::12", 20), (c, "c", "192.0.2.13", 30)] {
            let vtep = IPAddress(vtep)!
            await state.announce(NetworkAnnouncement(vni: Self.vni, subnet: subnet("10.45.0.0/24"), host: name, vtep: vtep,
                                                     subnet6: try IPv6Subnet(parsing: "fd00:45::/64")))
            await state.announce(EndpointAnnouncement(vni: Self.vni, endpointID: "r\(index)", address: address("10.45.0.\(index)"),
                                                      mac: MACAddress("02:00:00:00:00:\(index)")!, host: name, vtep: vtep,
                                                      address6: IPv6Address("fd00:45::\(index)")))
        }
        #expect(await a.remoteEndpoints(vni: Self.vni).count == 4)
        await driver.reconcileAllRemote()
        let session = try harness.session(vni: Self.vni.value)
        let device = LinkReference.name(KernelLayout(vni: Self.vni, namespaceDirectory: "").vxlanName)
        let destinations = Set(try session.forwardingDatabase(device: device).compactMap(\.destination))
        #expect(destinations == [IPAddress("192.0.2.13")!])
        let neighbours = try session.neighbours(device: device).filter { $0.state.contains(.permanent) }.map(\.address)
        #expect(Set(neighbours) == [IPAddress("10.45.0.30")!, IPAddress("fd00:45::30")!])
    }
}
