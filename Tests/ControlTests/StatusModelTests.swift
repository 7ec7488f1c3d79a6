import Control
import DockerPlugin
import Gossip
import Netlink
import Overlay
import Testing
import TestSupport

/// The status model and the diff built from an in-memory cluster: host A (under test) with its driver on the
/// dry-run kernel, host B a gossip node with cluster tables that announces one endpoint in VNI 42.
@Suite(.serialized)
struct StatusModelTests {
    static let vni: UInt32 = 42
    static let remoteAddress = IPv4Address("10.1.0.5")!
    static let remoteMAC = MACAddress("02:00:00:00:00:05")!

    /// A and B joined, network 42 on A, B's endpoint programmed in A's kernel; `body` runs, then both stop.
    static func withCluster(_ body: (TestHost, TestHost, SimulatedNetwork) async throws -> Void) async throws {
        let network = SimulatedNetwork()
        let a = try TestHost("a", vtep: "10.0.0.1", network: network)
        let b = try TestHost("b", vtep: "10.0.0.2", network: network)
        let bEvents = Task { for await event in b.node.events { await b.cluster.apply(event) } }
        await b.cluster.attach { [node = b.node] payload, key in await node.broadcast(payload, key: key) }
        await b.node.start()
        let maintenance = try await a.start(seeds: [b.address])
        defer {
            maintenance.cancel()
            bEvents.cancel()
        }
        try await a.driver.createNetwork(NetworkCreation(
            id: "3f2a9c1d4b5e6f708192a3b4c5d6e7f8", options: NetworkOptions(vni: VNI(42)),
            ipv4Pools: [.init(subnet: subnet("10.1.0.0/24"), gateway: nil)]))
        await b.cluster.announce(NetworkAnnouncement(vni: VNI(vni)!, subnet: subnet("10.1.0.0/24"), host: "b", vtep: b.vtep))
        await b.cluster.announce(EndpointAnnouncement(
            vni: VNI(vni)!, endpointID: "eb", address: remoteAddress, mac: remoteMAC, host: "b", vtep: b.vtep))
        let programmed = await eventually(within: .seconds(10)) {
            guard let session = try? a.session(vni: vni), let neighbours = try? session.neighbours() else { return false }
            return neighbours.contains { $0.mac == remoteMAC }
        }
        try #require(programmed != nil, "B's endpoint never reached A's kernel")
        do {
            try await body(a, b, network)
        } catch {
            await a.node.stop()
            await b.node.stop()
            throw error
        }
        await a.node.stop()
        await b.node.stop()
    }

    @Test("status names both hosts alive and B's endpoint with its host; after B is cut off it is failed, with its reason")
    func failedPeerWithReason() async throws {
        try await Self.withCluster { a, b, network in
            let source = a.source
            let peers = await source.peers()
            #expect(peers.map(\.name) == ["a", "b"])
            #expect(peers.allSatisfy { $0.state == "alive" && $0.reason == nil })
            #expect(peers.first { $0.name == "b" }?.endpoints == 1)
            #expect(peers.first { $0.name == "b" }?.vtep == "10.0.0.2")
            // A's probes of B measured round trips (the simulated network answers within the probe timeout).
            let probed = await eventually(within: .seconds(5)) { await source.peers().first { $0.name == "b" }?.rttP50Ms != nil }
            #expect(probed != nil, "no round trip measured for B")
            let measured = try #require(await source.peers().first { $0.name == "b" })
            #expect((measured.rttP99Ms ?? -1) >= (measured.rttP50Ms ?? 0) && (measured.rttP50Ms ?? -1) >= 0)
            // Probes time out in real time, and other tests in this process can hold its two threads for seconds,
            // so some may be counted lost; but some were answered (round trips were measured).
            let healthyLoss = try #require(measured.probeLoss)
            #expect(healthyLoss < 1, "no probe of a reachable B was answered: \(measured)")
            let networks = await source.networks()
            #expect(networks.count == 1)
            let remote = try #require(networks.first?.remoteEndpoints)
            #expect(remote.map { [$0.address, $0.mac, $0.host, $0.vtep] } == [["10.1.0.5", "02:00:00:00:00:05", "b", "10.0.0.2"]])
            #expect(networks.first?.hosts == ["b"])
            #expect(try await source.network("42").id == "3f2a9c1d4b5e6f708192a3b4c5d6e7f8")
            #expect(try await source.network("3f2a").vni == 42)
            await #expect(throws: ControlError.unknownNetwork("43")) { try await source.network("43") }
            // Under load B can be suspected for a moment (probes time out in real time) and refute it: wait, bounded,
            // for both alive.
            let bothAlive = await eventually(within: .seconds(15)) { await source.status().gossip?.alive == 2 }
            #expect(bothAlive != nil, "B never alive in A's status")
            let healthy = await source.status()
            #expect([healthy.networks.count, healthy.networks.localEndpoints, healthy.networks.remoteEndpoints] == [1, 0, 1])

            // The journal is the process's, shared with tests running beside this one: read only what comes after
            // the cut (a page from the start may end before it).
            let beforeCut = source.journal.events(after: .max).latest
            network.setIsolated(b.address, true)
            let failed = await eventually(within: .seconds(15)) {
                await source.peers().first { $0.name == "b" }?.state == "failed"
            }
            try #require(failed != nil, "B was never reported failed")
            let peer = try #require(await source.peers().first { $0.name == "b" })
            #expect(peer.reason?.contains("no answer to direct or indirect probes") == true)
            #expect((peer.probeLoss ?? 0) > healthyLoss, "B's unanswered probes are not counted: \(peer)")
            let status = await source.status()
            #expect(status.gossip?.failed == 1)
            #expect(status.gossip?.alive == 1)
            let problem = try #require(status.problems.first { $0.hasPrefix("peer b (10.0.0.2:7946) unreachable for ") })
            #expect(problem.contains("1 remote endpoint(s) removed from the kernel"), "\(problem)")
            #expect(status.health != "ok")
            #expect(StatusText.summary(status).contains("health:     "))
            #expect(StatusText.peers(await source.peers()).contains("failed"))
            // The failure is an event too, as `weft events` reads them through the control API.
            // The maintenance service records membership events as it takes them from the node, after the node's
            // own state changed: poll for it, bounded.
            var events = ""
            let recorded = await eventually(within: .seconds(10)) {
                guard let text = await eventPages(after: beforeCut, from: source) else { return false }
                events = text
                return events.contains(#""detail":"dead (10.0.0.2:7946)","kind":"membership","#)
            }
            #expect(recorded != nil, "\(events)")
            #expect(events.contains(#""kind":"correction""#), "\(events)")
        }
    }

    @Test("a neighbour entry removed behind weft's back, and an FDB entry added, appear in the diff with the commands that fix them; the repair pass clears both")
    func diffAndRepair() async throws {
        try await Self.withCluster { a, _, _ in
            let source = a.source
            await a.cluster.markSynchronized()
            await a.driver.reconcileAllRemote()
            #expect(try await source.diff(nil).matches)
            #expect(await a.driver.lastRepair?.written == 0)

            let session = try a.session(vni: Self.vni)
            let neighbour = try #require(try session.neighbours().first { $0.mac == Self.remoteMAC })
            try session.perform(.deleteNeighbour(neighbour))
            let vxlan = try session.index(of: .name("wvx-00002a"))
            let stray = MACAddress("02:00:00:00:00:99")!
            try session.perform(.writeFDB(.vtep(stray, via: IPAddress("10.0.0.9")!, on: .index(vxlan)), .replace))

            let report = try await source.diff(nil)
            #expect(!report.matches)
            let differences = try #require(report.networks.first?.differences)
            #expect(differences.count == 2, "\(differences)")
            let missing = try #require(differences.first { $0.object == .neighbour })
            #expect(missing.change == .missing)
            #expect(missing.commands.count == 1)
            #expect(missing.commands.first?.contains("neigh replace 10.1.0.5 lladdr 02:00:00:00:00:05 dev wvx-00002a nud permanent") == true,
                    "\(missing.commands)")
            let extra = try #require(differences.first { $0.object == .fdb })
            #expect(extra.change == .extra)
            #expect(extra.commands.first?.contains("bridge") == true)
            #expect(extra.commands.first?.contains("fdb del 02:00:00:00:00:99 dev wvx-00002a dst 10.0.0.9 self") == true, "\(extra.commands)")
            #expect(StatusText.diff(report).contains("missing neighbour 10.1.0.5"))
            #expect(try await source.diff("42") == report)
            await #expect(throws: ControlError.unknownNetwork("7")) { try await source.diff("7") }

            await a.driver.reconcileAllRemote()
            #expect(try await source.diff(nil).matches)
            let repair = try #require(await a.driver.lastRepair)
            #expect(repair.written == 1)
            #expect(repair.removed == 1)
            #expect(await source.status().lastRepair?.written == 1)
        }
    }

    @Test("a link removed behind weft's back is a missing link with its ip command")
    func missingLink() async throws {
        try await Self.withCluster { a, _, _ in
            let session = try a.session(vni: Self.vni)
            try session.perform(.deleteLink(.name("wvx-00002a")))
            let report = try await a.source.diff("42")
            let link = try #require(report.networks.first?.differences.first { $0.object == .link })
            #expect(link.change == .missing)
            #expect(link.subject == "link wvx-00002a")
            #expect(link.commands.contains { $0.hasPrefix("ip link add wvx-00002a") && $0.contains("type vxlan id 42") }, "\(link.commands)")
            #expect(report.networks.first?.note?.contains("weft corrects links only when it starts") == true)
        }
    }
}
