import DockerPlugin
import Logging
import Netlink
import Overlay
import Testing

/// AllocateNetwork on a swarm manager: a VNI every leader agrees on, and this manager as a gossip seed.
struct SwarmAllocationTests {
    func backend(seed: String?, membership: (any SwarmMembership)? = nil) -> OverlayNetworkBackend {
        let driver = OverlayDriver(
            host: HostSettings(advertiseAddress: IPAddress("192.0.2.1")!, underlayMTU: 1500),
            backend: DryRunBackend(seedFromCurrentNamespace: false) { _ in },
            store: StateStore(inMemory: PersistentState()), logger: Logger(label: "test"))
        return OverlayNetworkBackend(driver: driver, scope: .global, membership: membership, gossipSeed: seed)
    }

    /// What the backend told the swarm membership, in order.
    actor RecordingMembership: SwarmMembership {
        var calls: [String] = []
        func networkArrived(seeds: [String]) { calls.append("arrived \(seeds.joined(separator: ","))") }
        func clusterKeyArrived(_ base64: String) { calls.append("key \(base64)") }
        func clusterKey() -> String? { nil }
    }

    @Test("the membership hears of the seeds a swarm network brings (this host's own left out)")
    func membershipFollowsSwarmCalls() async throws {
        let membership = RecordingMembership()
        let manager = backend(seed: "192.0.2.1:7946", membership: membership)
        let allocation = AllocateNetworkRequest(
            networkID: "swarmnet0123456789abcdefg", ipv4Data: [IPAMData(pool: "10.30.0.0/24", gateway: "10.30.0.1/24")])
        var options = try await manager.allocateNetwork(allocation).options
        options["weft.seeds"] = "192.0.2.9:7946,192.0.2.1:7946"
        let generic = JSONValue.object(options.mapValues { JSONValue.string($0) })
        try await manager.createNetwork(
            CreateNetworkRequest(
                networkID: allocation.networkID, options: DriverOptions([DriverOptions.genericKey: generic]),
                ipv4Data: allocation.ipv4Data))
        try await manager.deleteNetwork(DeleteNetworkRequest(networkID: allocation.networkID))
        try await manager.freeNetwork(FreeNetworkRequest(networkID: allocation.networkID))
        #expect(await membership.calls == ["arrived 192.0.2.9:7946"])
    }

    @Test func allocationIsDeterministicIdempotentAndCarriesSeeds() async throws {
        let manager = backend(seed: "192.0.2.1:7946")
        let request = AllocateNetworkRequest(
            networkID: "swarmnet0123456789abcdefg", options: ["custom": "kept"],
            ipv4Data: [IPAMData(pool: "10.30.0.0/24", gateway: "10.30.0.1/24")])
        let first = try await manager.allocateNetwork(request)
        let vni = NetworkPolicy.derivedVNI(for: try IPv4Subnet(parsing: "10.30.0.0/24"))
        #expect(first.options == ["custom": "kept", "weft.vni": "\(vni)", "weft.seeds": "192.0.2.1:7946"])
        // A new leader gets the previous answer merged into its request and answers the same.
        var again = request
        again.options.merge(first.options) { _, new in new }
        #expect(try await manager.allocateNetwork(again).options == first.options)
        // Another manager adds itself to the seeds; an explicit weft.vni is kept.
        let other = backend(seed: "192.0.2.2:7946")
        var explicit = again
        explicit.options["weft.vni"] = "4242"
        let second = try await other.allocateNetwork(explicit)
        #expect(second.options["weft.vni"] == "4242")
        #expect(second.options["weft.seeds"] == "192.0.2.1:7946,192.0.2.2:7946")
        #expect(try await other.capabilities() == NetworkDriverCapabilities(scope: .global, connectivityScope: .global))
    }

    @Test("DiscoverNew: the address swarm advertises for this node is remembered; other discoveries change nothing")
    func discoverNewRemembersSwarmsAddress() async throws {
        let store = StateStore(inMemory: PersistentState())
        let driver = OverlayDriver(
            host: HostSettings(advertiseAddress: IPAddress("192.0.2.1")!, underlayMTU: 1500),
            backend: DryRunBackend(seedFromCurrentNamespace: false) { _ in }, store: store, logger: Logger(label: "test"))
        let backend = OverlayNetworkBackend(driver: driver, scope: .global)
        func discovery(_ address: String, isSelf: Bool, type: Int = 1) -> DiscoveryNotification {
            DiscoveryNotification(
                discoveryType: type,
                discoveryData: .object(["Address": .string(address), "BindAddress": .string(address), "Self": .bool(isSelf)]))
        }
        try await backend.discoverNew(discovery("192.0.2.1", isSelf: true))
        #expect(store.current.swarmAddress == IPAddress("192.0.2.1"))
        try await backend.discoverNew(discovery("198.51.100.7", isSelf: false))
        try await backend.discoverNew(discovery("198.51.100.8", isSelf: true, type: 3))
        try await backend.discoverNew(discovery("not an address", isSelf: true))
        #expect(store.current.swarmAddress == IPAddress("192.0.2.1"))
        try await backend.discoverNew(discovery("198.51.100.9", isSelf: true))
        #expect(store.current.swarmAddress == IPAddress("198.51.100.9"))
    }

    @Test func aPoolIsRequired() async {
        await #expect(throws: DriverError.noIPv4Pool(network: "n")) {
            _ = try await backend(seed: nil).allocateNetwork(AllocateNetworkRequest(networkID: "n"))
        }
        let onlyIPv6 = AllocateNetworkRequest(networkID: "n", ipv4Data: [IPAMData(pool: "fd00:33::/64", gateway: "fd00:33::1/64")])
        await #expect(throws: DriverError.noIPv4Pool(network: "n")) {
            _ = try await backend(seed: nil).allocateNetwork(onlyIPv6)
        }
    }

    /// Swarm's allocator (Docker 20.10 to 29) passes every pool of `--ipv6 --subnet 10.33.0.0/24 --subnet
    /// fd00:33::/64` as IPv4 data, in the order given: the VNI comes from the IPv4 one, whichever comes first.
    @Test("AllocateNetwork of a dual-stack swarm network: the IPv6 pool among the IPv4 data is passed over")
    func dualStackAllocation() async throws {
        let manager = backend(seed: "192.0.2.1:7946")
        let v6 = IPAMData(pool: "fd00:33::/64", gateway: "fd00:33::1/64")
        let v4 = IPAMData(pool: "10.33.0.0/24", gateway: "10.33.0.1/24")
        let response = try await manager.allocateNetwork(
            AllocateNetworkRequest(networkID: "dualstack0123456789abcdef", ipv4Data: [v6, v4]))
        let vni = NetworkPolicy.derivedVNI(for: try IPv4Subnet(parsing: "10.33.0.0/24"))
        #expect(response.options["weft.vni"] == "\(vni)")
    }
}
