import Gossip
import Logging
import Netlink
import Overlay
import TestSupport
import Testing

/// A swarm node's place in the gossip follows its swarm networks: three gossip nodes on the simulated network,
/// each with its cluster tables, the third a worker whose `SwarmGossip` leaves when idle.
@Suite(.serialized)
struct SwarmGossipTests {
    struct Host {
        let node: GossipNode
        let cluster: ClusterState
        let store: StateStore
        let address: GossipAddress
    }

    static func hosts(_ count: Int, network: SimulatedNetwork) async throws -> [Host] {
        var hosts: [Host] = []
        for index in 0..<count {
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let simulated = SimulatedHost("h\(index)", vtep: "10.0.0.\(index + 1)")
            let (node, cluster) = try await simulated.startGossip(on: network, logger: logger)
            let address = GossipAddress(ip: simulated.vtep, port: 7946)
            if let first = hosts.first { try await node.join([first.address]) }
            hosts.append(Host(node: node, cluster: cluster, store: StateStore(inMemory: PersistentState()), address: address))
        }
        return hosts
    }

    static func swarm(_ host: Host, idleLeave: Duration?) -> SwarmGossip {
        SwarmGossip(node: host.node, cluster: host.cluster, store: host.store, defaultPort: 7946, idleLeave: idleLeave,
                    logger: Logger(label: "test"))
    }

    /// Calls `leaveIfIdle` every 20 ms (as the daemon does every second) until `condition` holds, within `bound`.
    static func tick(_ swarm: SwarmGossip, within bound: Duration = .seconds(5), until condition: () async -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + bound
        while clock.now < deadline {
            await swarm.leaveIfIdle()
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    static func endpoint(host: String) -> EndpointAnnouncement {
        EndpointAnnouncement(
            vni: VNI(42)!, endpointID: "e-\(host)", address: address("10.1.0.2"), mac: MACAddress("02:00:00:00:00:01")!,
            host: host, vtep: IPAddress("10.0.0.1")!)
    }

    static let network = NetworkAnnouncement(vni: VNI(42)!, subnet: subnet("10.1.0.0/24"), host: "h0", vtep: IPAddress("10.0.0.1")!)

    @Test("an idle worker leaves (peers see it left, it forgets their entries and its peer list); a swarm network brings it back")
    func idleWorkerLeavesAndComesBack() async throws {
        let network = SimulatedNetwork()
        let hosts = try await Self.hosts(3, network: network)
        defer { Task { for host in hosts { await host.node.stop() } } }
        let (manager, worker) = (hosts[0], hosts[2])
        await manager.cluster.announce(Self.network)
        await manager.cluster.announce(Self.endpoint(host: "h0"))
        try worker.store.update { $0.knownPeers = ["10.0.0.1:7946"] }
        let swarm = Self.swarm(worker, idleLeave: .milliseconds(200))

        // Seed of a network it allocated: it stays however long it is idle otherwise.
        try worker.store.update { $0.allocatedNetworks["n1"] = SwarmAllocation(vni: VNI(7)!, subnet: subnet("10.1.0.0/24")) }
        let stayedWhileSeed = await Self.tick(swarm, within: .seconds(1)) { await worker.node.hasLeft }
        #expect(!stayedWhileSeed)
        // The manager's records reach it by gossip: within the second above here, later on a loaded machine.
        #expect(await eventually(within: .seconds(10)) { await worker.cluster.remoteEndpoints(vni: VNI(42)!).count == 1 } != nil)

        try worker.store.update { $0.allocatedNetworks["n1"] = nil }
        let left = await Self.tick(swarm) { await manager.node.member(named: "h2")?.state == .left }
        #expect(left)
        #expect(await worker.node.hasLeft)
        #expect(await worker.cluster.remoteEndpoints(vni: VNI(42)!).isEmpty)
        #expect(worker.store.current.knownPeers.isEmpty)

        // CreateNetwork with the manager as seed: back in, with the manager's entries.
        await swarm.networkArrived(seeds: ["10.0.0.1:7946"])
        var back = false
        for _ in 0..<250 where !back {
            let seen = await manager.node.member(named: "h2")?.state
            let relearned = await worker.cluster.remoteEndpoints(vni: VNI(42)!).count
            back = seen == .alive && relearned == 1
            if !back { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(back)
    }

    @Test("a host given seeds by its operator (no idle limit) never leaves, nor does one alone")
    func operatorSeedsAndLoneHostsStay() async throws {
        let network = SimulatedNetwork()
        let hosts = try await Self.hosts(2, network: network)
        defer { Task { for host in hosts { await host.node.stop() } } }
        let configured = Self.swarm(hosts[1], idleLeave: nil)
        #expect(!(await Self.tick(configured, within: .seconds(1)) { await hosts[1].node.hasLeft }))

        let loneNetwork = SimulatedNetwork()
        let lone = try await Self.hosts(1, network: loneNetwork)
        defer { Task { await lone[0].node.stop() } }
        let alone = Self.swarm(lone[0], idleLeave: .milliseconds(50))
        #expect(!(await Self.tick(alone, within: .seconds(1)) { await lone[0].node.hasLeft }))
    }
}
