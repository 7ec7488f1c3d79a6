import Gossip
import Logging
import Netlink
import Overlay
import ServiceLifecycle
import Testing
import TestSupport

/// The cluster maintenance service wired as the daemon runs it: host A's driver on the dry-run kernel, its
/// gossip node on the simulated network (timings scaled down tenfold), its timers on a manual clock; host B a
/// gossip node with cluster tables. Each test fails if one wire (events → tables, table changes → kernel,
/// repair pass, joining, peer list, the "alone" timer) is missing.
@Suite(.serialized)
struct ClusterMaintenanceTests {
    static let vni = VNI(42)!
    static let remoteAddress = IPv4Address("10.1.0.5")!
    static let remoteMAC = MACAddress("02:00:00:00:00:05")!

    struct Peer {
        let node: GossipNode
        let cluster: ClusterState
        let address: GossipAddress
        let vtep: IPAddress
    }

    final class HostA: Sendable {
        let harness = DriverHarness()
        let node: GossipNode
        let cluster: ClusterState
        let driver: OverlayDriver
        let clock = ManualClock()
        let address = GossipAddress(ip: .v4(IPv4Address(10, 0, 0, 1)), port: 7946)

        init(network: SimulatedNetwork) throws {
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let simulated = SimulatedHost("a", vtep: "10.0.0.1")
            cluster = simulated.state(logger: logger)
            node = try GossipNode(
                configuration: GossipConfiguration(name: "a", tags: simulated.tags, logger: logger).scaled(by: 0.1),
                transport: network.attach(address), delegate: cluster)
            driver = OverlayDriver(
                host: DriverHarness.host, backend: harness.backend, store: harness.store, logger: logger, cluster: cluster)
        }

        func maintenance(seeds: [GossipAddress]) -> ClusterMaintenance<ManualClock> {
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            return ClusterMaintenance(
                node: node, swarm: nil, cluster: cluster, driver: driver, store: harness.store, seeds: seeds,
                gossipPort: 7946, ownAddress: address, clock: clock, logger: logger)
        }

        /// B's endpoint as A's kernel holds it: (neighbour entry, FDB entry toward B's VTEP).
        func remoteEntries() throws -> (neighbour: Bool, fdb: Bool) {
            let session = try harness.session(vni: ClusterMaintenanceTests.vni.value)
            let neighbour = try session.neighbours().contains { $0.address == .v4(remoteAddress) && $0.mac == remoteMAC }
            let fdb = try session.forwardingDatabase().contains { $0.mac == remoteMAC && $0.destination == IPAddress("10.0.0.2") }
            return (neighbour, fdb)
        }

        func hasRemoteEndpoint() -> Bool {
            guard let entries = try? remoteEntries() else { return false }
            return entries.neighbour && entries.fdb
        }
    }

    static func peerB(network: SimulatedNetwork) async throws -> Peer {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let simulated = SimulatedHost("b", vtep: "10.0.0.2")
        let (node, cluster) = try await simulated.startGossip(on: network, logger: logger)
        return Peer(node: node, cluster: cluster, address: GossipAddress(ip: simulated.vtep, port: 7946), vtep: simulated.vtep)
    }

    /// Runs the maintenance in a service group until `body` returns, then shuts it down gracefully.
    static func withMaintenance(
        _ host: HostA, seeds: [GossipAddress], _ body: () async throws -> Void
    ) async throws {
        await host.cluster.attach { [node = host.node] payload, key in await node.broadcast(payload, key: key) }
        await host.node.start()
        try await host.driver.start()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let group = ServiceGroup(services: [host.maintenance(seeds: seeds)], logger: logger)
        let running = Task { try await group.run() }
        do {
            try await body()
        } catch {
            await group.triggerGracefulShutdown()
            _ = await running.result
            await host.node.stop()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await running.value
        await host.node.stop()
    }

    static func announceEndpoint(on peer: Peer) async {
        await peer.cluster.announce(NetworkAnnouncement(vni: vni, subnet: subnet("10.1.0.0/24"), host: "b", vtep: peer.vtep))
        await peer.cluster.announce(
            EndpointAnnouncement(vni: vni, endpointID: "eb", address: remoteAddress, mac: remoteMAC, host: "b", vtep: peer.vtep))
    }

    /// A with its maintenance running and B as its seed on one simulated network, A's network of VNI 42 created
    /// and B's endpoint in it announced; B's node is stopped after `body`.
    static func withEndpointOnB(_ body: (SimulatedNetwork, HostA, Peer) async throws -> Void) async throws {
        let network = SimulatedNetwork()
        let a = try HostA(network: network)
        let b = try await Self.peerB(network: network)
        defer { Task { await b.node.stop() } }
        try await Self.withMaintenance(a, seeds: [b.address]) {
            try await a.driver.createNetwork(DriverHarness.network(options: ["weft.vni": "42"]))
            await Self.announceEndpoint(on: b)
            try await body(network, a, b)
        }
    }

    @Test("join through the seeds; B's endpoint reaches A's kernel; B fails: gone; B returns: back; B leaves: gone and forgotten")
    func membershipDrivesTheKernel() async throws {
        try await Self.withEndpointOnB { network, a, b in
            // Joined by the maintenance (nothing else joins A to B), the record merged, the kernel programmed.
            #expect(await eventually(within: .seconds(10)) { a.hasRemoteEndpoint() } != nil, "B's endpoint never reached A's kernel")
            #expect(a.harness.store.current.knownPeers == ["10.0.0.2:7946"])

            network.setIsolated(b.address, true)
            #expect(await eventually(within: .seconds(10)) { !a.hasRemoteEndpoint() } != nil, "a failed B's entries stayed")
            network.setIsolated(b.address, false)
            try await b.node.join([a.address])
            #expect(await eventually(within: .seconds(10)) { a.hasRemoteEndpoint() } != nil, "B came back, its entries did not")

            await b.node.leave(timeout: .seconds(2))
            #expect(await eventually(within: .seconds(10)) { !a.hasRemoteEndpoint() } != nil, "B left, its entries stayed")
            #expect(await eventually(within: .seconds(2)) { a.harness.store.current.knownPeers.isEmpty } != nil)
        }
    }

    @Test("the repair pass runs on the clock: an entry removed behind weft's back is rewritten when 10 s pass")
    func repairPassOnTheClock() async throws {
        try await Self.withEndpointOnB { _, a, _ in
            #expect(await eventually(within: .seconds(10)) { a.hasRemoteEndpoint() } != nil)
            // The tables count as complete only after a push/pull or the "alone" timer; force it for the repair.
            await a.cluster.markSynchronized()
            let session = try a.harness.session(vni: Self.vni.value)
            let neighbour = try #require(try session.neighbours().first { $0.mac == Self.remoteMAC })
            try session.perform(.deleteNeighbour(neighbour))
            #expect(try a.remoteEntries().neighbour == false)
            // Not before the interval has passed on the maintenance's clock...
            a.clock.advance(by: .seconds(9))
            #expect(await eventually(within: .milliseconds(300)) { (try? a.remoteEntries().neighbour) == true } == nil)
            // ...and at it.
            a.clock.advance(by: .seconds(1))
            #expect(await eventually(within: .seconds(5)) { (try? a.remoteEntries().neighbour) == true } != nil, "the repair pass did not run")
        }
    }

    @Test("with no seeds, the tables count as complete after 35 s on the clock, not before")
    func aloneAfterTheTimer() async throws {
        let network = SimulatedNetwork()
        let a = try HostA(network: network)
        try await Self.withMaintenance(a, seeds: []) {
            #expect(await eventually(within: .seconds(2)) { a.clock.sleeperCount >= 2 } != nil)
            a.clock.advance(by: .seconds(34))
            #expect(await eventually(within: .milliseconds(200)) { await a.cluster.isSynchronized } == nil)
            a.clock.advance(by: .seconds(1))
            #expect(await eventually(within: .seconds(2)) { await a.cluster.isSynchronized } != nil)
        }
    }
}
