import Gossip
import Logging
import Netlink
import Overlay
import Testing

/// AllocateNetwork's VNI on a swarm manager: unique among this manager's allocations, this host's networks and
/// the cluster's, stable per network, freed by FreeNetwork.
struct VNIAllocationTests {
    static let subnetA = subnet("10.1.0.0/24")
    static let subnetB = subnet("10.2.0.0/24")

    func driver(cluster: ClusterState? = nil) -> OverlayDriver {
        OverlayDriver(
            host: DriverHarness.host, backend: DryRunBackend(seedFromCurrentNamespace: false) { _ in },
            store: StateStore(inMemory: PersistentState()), logger: Logger(label: "test"), cluster: cluster)
    }

    @Test("a derived VNI is stable per network; one another network holds moves on; an explicit one is refused; a freed one is free again")
    func derivedExplicitAndFreed() async throws {
        let manager = driver()
        let derivedA = NetworkPolicy.derivedVNI(for: Self.subnetA)
        let derivedB = NetworkPolicy.derivedVNI(for: Self.subnetB)
        #expect(try await manager.allocateNetwork(id: "net1", subnet: Self.subnetA, options: [:]) == derivedA)
        #expect(try await manager.allocateNetwork(id: "net1", subnet: Self.subnetA, options: [:]) == derivedA)
        // A leader change: the previous answer comes back merged into the options.
        #expect(try await manager.allocateNetwork(id: "net1", subnet: Self.subnetA, options: ["weft.vni": "\(derivedA)"]) == derivedA)

        await #expect(throws: DriverError.vniInUse(vni: derivedA, network: "net1", subnet: Self.subnetA)) {
            try await manager.allocateNetwork(id: "net2", subnet: Self.subnetB, options: ["weft.vni": "\(derivedA)"])
        }
        // net2 takes B's derived VNI explicitly; net3, on subnet B without one, gets the next free VNI.
        #expect(try await manager.allocateNetwork(id: "net2", subnet: Self.subnetA, options: ["weft.vni": "\(derivedB)"]) == derivedB)
        let moved = try await manager.allocateNetwork(id: "net3", subnet: Self.subnetB, options: [:])
        #expect(moved != derivedB && moved != derivedA)
        #expect(moved.value == derivedB.value + 1 || moved.value == derivedB.value + 2)

        try await manager.freeNetwork(id: "net2")
        try await manager.freeNetwork(id: "net2")  // Docker retries
        #expect(try await manager.allocateNetwork(id: "net4", subnet: Self.subnetB, options: [:]) == derivedB)
    }

    @Test("a VNI another host uses for another subnet is refused naming the host, or skipped when derived")
    func clusterWideUniqueness() async throws {
        let cluster = ClusterState(node: "a", logger: Logger(label: "test"))
        let b = SimulatedHost("b", vtep: "192.0.2.12")
        await cluster.apply(.join(b.member))
        let vni = VNI(4242)!
        let announcement = NetworkAnnouncement(vni: vni, subnet: Self.subnetB, host: "b", vtep: b.vtep)
        await cluster.mergeRemoteState(
            ClusterCodec.encode([
                b.signed(.network(key: "4242/b", entry: ReplicatedEntry(version: EntryVersion(clock: 1, node: "b"), owner: "b", value: announcement)))
            ]), join: true)
        let manager = driver(cluster: cluster)
        do {
            _ = try await manager.allocateNetwork(id: "net1", subnet: Self.subnetA, options: ["weft.vni": "4242"])
            Issue.record("VNI 4242 was allocated though host b uses it for another subnet")
        } catch {
            #expect(error.description == "VNI 4242 is already used by subnet 10.2.0.0/24 on host b")
        }
        // The same subnet is the same network: no conflict.
        #expect(try await manager.allocateNetwork(id: "net2", subnet: Self.subnetB, options: ["weft.vni": "4242"]) == vni)
    }
}
