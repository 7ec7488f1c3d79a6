import Glibc
import Logging
import Netlink
import Overlay
import Synchronization
import Testing

/// CreateNetwork and AllocateNetwork racing for one VNI. The driver actor is reentrant at its await on the
/// cluster (another actor), so with a cluster the requests really interleave there: exactly one gets the VNI,
/// the others are refused naming it, and a failure never removes what another request made.
struct ConcurrentNetworkTests {
    static let vni = VNI(42)!

    let cluster = ClusterState(node: "a", logger: Logger(label: "test"))

    func driver(_ harness: DriverHarness, backend: (any NetlinkBackend)? = nil) -> OverlayDriver {
        OverlayDriver(
            host: DriverHarness.host, backend: backend ?? harness.backend, store: harness.store, logger: Logger(label: "test"),
            cluster: cluster)
    }

    @Test("many CreateNetwork with one VNI at once: exactly one succeeds, the others are refused naming it, its objects stay")
    func concurrentCreate() async throws {
        let harness = DriverHarness()
        let driver = driver(harness)
        let ids = (0..<32).map { "net\($0)" }
        let results = try await RequestRace.run(ids, driver: driver, cluster: cluster) { id throws(DriverError) in
            try await driver.createNetwork(DriverHarness.network(id, options: ["weft.vni": "42"]))
        }
        let winners = results.filter { $0.value == nil }.map(\.key)
        try #require(winners.count == 1, "\(winners.count) networks got VNI 42: \(winners.sorted())")
        let winner = winners[0]
        for (id, error) in results where id != winner {
            #expect(error == .vniInUse(vni: Self.vni, network: winner, subnet: subnet("10.1.0.0/24")), "\(id)")
        }
        #expect(Array(harness.store.current.networks.keys) == [winner])

        // The winner's objects are whole and serve an endpoint.
        let session = try harness.session(vni: 42)
        let links = try session.links()
        let bridge = try #require(links.first { $0.name == "wbr-00002a" })
        #expect(links.first { $0.name == "wvx-00002a" }?.master == bridge.index)
        let endpoint = try await driver.createEndpoint(EndpointCreation(networkID: winner, endpointID: "e1e1e1e1e1e1e1", address: IPv4Interface("10.1.0.2/24")!))
        #expect(try session.link(.name(KernelLayout.bridgeEnd(endpoint: endpoint.id)))?.master == bridge.index)
    }

    @Test("many AllocateNetwork with one explicit VNI at once: one gets it; with derived VNIs, each gets its own")
    func concurrentAllocate() async throws {
        let harness = DriverHarness()
        let driver = driver(harness)
        let ids = (0..<32).map { "net\($0)" }
        let explicit = try await RequestRace.run(ids, driver: driver, cluster: cluster) { id throws(DriverError) in
            try await driver.allocateNetwork(id: id, subnet: subnet("10.1.0.0/24"), options: ["weft.vni": "42"])
        }
        let winners = explicit.filter { $0.value == nil }.map(\.key)
        try #require(winners.count == 1, "\(winners.count) allocations got VNI 42: \(winners.sorted())")
        for (id, error) in explicit where id != winners[0] {
            #expect(error == .vniInUse(vni: Self.vni, network: winners[0], subnet: subnet("10.1.0.0/24")), "\(id)")
        }

        let derived = (0..<16).map { "derived\($0)" }
        let results = try await RequestRace.run(derived, driver: driver, cluster: cluster) { id throws(DriverError) in
            try await driver.allocateNetwork(id: id, subnet: subnet("10.2.0.0/24"), options: [:])
        }
        #expect(results.values.allSatisfy { $0 == nil })
        let allocations = harness.store.current.allocatedNetworks
        #expect(Set(allocations.values.map(\.vni)).count == allocations.count, "two networks share a VNI: \(allocations)")
        #expect(allocations.count == 17)
    }

    @Test("a second request for a network still being created is refused, not run twice")
    func sameNetworkTwiceAtOnce() async throws {
        let harness = DriverHarness()
        let driver = driver(harness)
        let results = try await RequestRace.run(["first", "second"], driver: driver, cluster: cluster) { _ throws(DriverError) in
            try await driver.createNetwork(DriverHarness.network("net1", options: ["weft.vni": "42"]))
        }
        #expect(results.values.filter { $0 == nil }.count == 1)
        #expect(results.values.filter { $0 == .networkBusy(network: "net1") }.count == 1)
        #expect(await driver.network(id: "net1")?.vni == Self.vni)
        #expect(DriverError.networkBusy(network: "net1").description
            == "network net1: another request for this network is still in progress; try again")
    }

    @Test("a CreateNetwork that fails in the kernel removes its own namespace, and never one it did not make")
    func failureRemovesOnlyWhatItMade() async throws {
        let harness = DriverHarness()
        let failing = HostFailingBackend(harness.backend)
        let driver = driver(harness, backend: failing)
        let layout = KernelLayout(vni: Self.vni, namespaceDirectory: DriverHarness.host.namespaceDirectory)

        // The host namespace refuses the VXLAN device: the network fails; the namespace it made goes.
        failing.failing.withLock { $0 = true }
        await #expect(throws: DriverError.self) {
            try await driver.createNetwork(DriverHarness.network("net1", options: ["weft.vni": "42"]))
        }
        #expect(!harness.backend.namespaceExists(layout.namespace))
        #expect(harness.store.current.networks.isEmpty)

        // A namespace that was there before (made by someone else) stays, with what it holds.
        let existing = try harness.backend.createNamespace(layout.namespace)
        try harness.backend.session(in: existing).perform(.createLink(LinkSpec(name: "marker", kind: .bridge)))
        await #expect(throws: DriverError.self) {
            try await driver.createNetwork(DriverHarness.network("net1", options: ["weft.vni": "42"]))
        }
        #expect(harness.backend.namespaceExists(layout.namespace))
        #expect(try harness.session(vni: 42).link("marker") != nil)
        #expect(harness.store.current.networks.isEmpty)

        // A retry of a network that exists fails without removing it.
        failing.failing.withLock { $0 = false }
        try await driver.createNetwork(DriverHarness.network("net1", options: ["weft.vni": "42"]))
        failing.failing.withLock { $0 = true }
        try harness.session(vni: 42).perform(.deleteLink("wvx-00002a"))
        await #expect(throws: DriverError.self) {
            try await driver.createNetwork(DriverHarness.network("net1", options: ["weft.vni": "42"]))
        }
        #expect(await driver.network(id: "net1") != nil)
        #expect(try harness.session(vni: 42).link("wbr-00002a") != nil)
    }
}

/// The dry-run backend, except that while `failing` is set every change in the host namespace is refused
/// (as a kernel without VXLAN support would).
final class HostFailingBackend: DryRunWrapper {
    let inner: DryRunBackend
    let failing = Mutex(false)

    init(_ inner: DryRunBackend) { self.inner = inner }

    func transport(for namespace: NetworkNamespace) throws(NetlinkError) -> any NetlinkTransport {
        let transport = try inner.transport(for: namespace)
        return namespace.reference == .current ? Transport(inner: transport, backend: self) : transport
    }

    struct Transport: NetlinkTransport {
        let inner: any NetlinkTransport
        let backend: HostFailingBackend

        func execute(_ messages: [[UInt8]]) throws(NetlinkError) -> [Acknowledgement] {
            if backend.failing.withLock({ $0 }) {
                throw .rejected(object: "host namespace", errno: EOPNOTSUPP, kernelMessage: "refused by the test")
            }
            return try inner.execute(messages)
        }

        func query(_ message: [UInt8], object: String) throws(NetlinkError) -> [UInt8] {
            try inner.query(message, object: object)
        }
    }
}
