import Gossip
import Logging
import Netlink
import Overlay
import Testing

/// A change pass applies only the addresses the cluster reports changed: after any sequence of remote changes,
/// the VXLAN device holds exactly what a repair pass computes from the whole table, and one change costs the
/// same whatever the size of the network.
struct IncrementalRemoteTests {
    static let vni = VNI(43)!
    static let subnet4 = subnet("10.1.0.0/20")
    static let subnet6 = try! IPv6Subnet(parsing: "fd00:43::/64")
    static let hosts = [
        SimulatedHost("a", vtep: "192.0.2.1"), SimulatedHost("b", vtep: "192.0.2.2"), SimulatedHost("c", vtep: "192.0.2.3"),
    ]

    /// Host `a` runs the driver under test; `b` and `c` define the network, all three announce endpoints.
    struct Cluster {
        let backend = CountingBackend()
        let states: [String: ClusterState]
        let driver: OverlayDriver

        init() async throws {
            let cluster = SimulatedCluster()
            var states: [String: ClusterState] = [:]
            for host in IncrementalRemoteTests.hosts { states[host.name] = await cluster.add(host) }
            self.states = states
            driver = OverlayDriver(
                host: DriverHarness.host, backend: backend, store: StateStore(inMemory: PersistentState()),
                logger: Logger(label: "test"), cluster: states["a"]!)
            await states["a"]!.markSynchronized()
            try await driver.createNetwork(
                DriverHarness.network(subnet: "10.1.0.0/20", options: [NetworkPolicy.vniOption: "\(IncrementalRemoteTests.vni)"]))
            for host in IncrementalRemoteTests.hosts.dropFirst() { await states[host.name]!.announce(Self.network(host)) }
            await driver.reconcileAllRemote()
            _ = backend.take()
        }

        static func network(_ host: SimulatedHost) -> NetworkAnnouncement {
            NetworkAnnouncement(vni: IncrementalRemoteTests.vni, subnet: IncrementalRemoteTests.subnet4, host: host.name,
                                vtep: host.vtep, subnet6: IncrementalRemoteTests.subnet6)
        }

        var a: ClusterState { states["a"]! }

        func session() throws -> NetlinkSession {
            try backend.inner.session(in: KernelLayout(vni: IncrementalRemoteTests.vni, namespaceDirectory: DriverHarness.host.namespaceDirectory).namespace)
        }

        func device() throws -> LinkReference {
            .index(try session().index(of: .name(KernelLayout(vni: IncrementalRemoteTests.vni, namespaceDirectory: "").vxlanName)))
        }

        /// The device's permanent FDB entries (`MAC target`, flooding entries with the zero MAC) and neighbour entries
        /// (`address MAC`), as the kernel holds them and as the whole table asks for them.
        func tables() async throws -> (kernel: [String], wanted: [String]) {
            let remotes = await a.remoteEndpoints(vni: IncrementalRemoteTests.vni)
            let hosts = await a.remoteHosts(vni: IncrementalRemoteTests.vni).union(remotes.map(\.vtep))
            let wanted = RemoteProgram(remotes: remotes, hosts: hosts, relays: await driver.relayRoutes)
            let device = try device()
            var kernel: [String] = []
            for entry in try session().forwardingDatabase(device: device) where entry.table == .device && entry.state.contains(.permanent) {
                if let target = ForwardingTarget(entry) { kernel.append("\(entry.mac) \(target)") }
            }
            for entry in try session().neighbours(device: device) where entry.state.contains(.permanent) {
                kernel.append("\(entry.address) \(entry.mac.map(\.description) ?? "-")")
            }
            let expected = wanted.fdb.map { "\($0.key) \($0.value)" } + wanted.hosts.map { "\(MACAddress.zero) \($0)" }
                + wanted.neighbours.map { "\($0.key) \($0.value)" }
            return (kernel.sorted(), expected.sorted())
        }

        /// What a repair pass would change on the device now, computed from the whole table (read on the inner
        /// backend: not counted).
        func repairPlan() async throws -> [NetlinkOperation] {
            let remotes = await a.remoteEndpoints(vni: IncrementalRemoteTests.vni)
            let hosts = await a.remoteHosts(vni: IncrementalRemoteTests.vni).union(remotes.map(\.vtep))
            let device = try device()
            return Reconciler.planRemote(
                vxlan: device, remotes: remotes, remoteHosts: hosts, fdb: try session().forwardingDatabase(device: device),
                neighbours: try session().neighbours(device: device), relays: await driver.relayRoutes)
        }
    }

    /// An endpoint announcement of `host`'s: address 10.1.0.`low`, optionally fd00:43::`low`.
    static func endpoint(_ id: String, host: SimulatedHost, low: Int, mac: UInt8, dualStack: Bool) -> EndpointAnnouncement {
        EndpointAnnouncement(
            vni: vni, endpointID: id, address: IPv4Address(0x0A01_0000 + UInt32(low)),
            mac: MACAddress(bytes: [0x02, 0, 0, 0, 0x43, mac])!, host: host.name, vtep: host.vtep,
            address6: dualStack ? try! IPv6Address(parsing: "fd00:43::\(low)") : nil)
    }

    @Test("random announces, withdrawals, moves, duplicate addresses and MACs, failures, returns and relays leave the device as a repair pass would",
          arguments: [1, 2, 3] as [UInt64])
    func changePassesMatchARepair(seed: UInt64) async throws {
        let cluster = try await Cluster()
        var random = SplitMix64(seed: seed)
        var live: [String: EndpointAnnouncement] = [:]
        var serial = 0
        func pick(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
        for step in 0..<100 {
            let host = Self.hosts[pick(0...9) == 0 ? 0 : pick(1...2)]
            let state = cluster.states[host.name]!
            let action: String
            switch pick(0...14) {
            case 0...3:
                serial += 1
                // Few addresses and MACs: duplicates of both are common.
                let endpoint = Self.endpoint("e\(serial)", host: host, low: pick(2...40), mac: UInt8(pick(1...8)), dualStack: pick(0...1) == 0)
                live[endpoint.key] = endpoint
                await state.announce(endpoint)
                action = "announce \(endpoint.address) \(endpoint.address6.map(\.description) ?? "") \(endpoint.mac) on \(host.name)"
            case 4...5:
                guard let key = live.keys.sorted().randomElement(using: &random), let endpoint = live.removeValue(forKey: key) else { continue }
                await cluster.states[endpoint.host]!.withdraw(endpoint: key)
                action = "withdraw \(endpoint.address) on \(endpoint.host)"
            case 6:
                // A container moves: its address is announced on the other host before the old one is withdrawn.
                guard let key = live.keys.sorted().randomElement(using: &random), let old = live[key], old.host != "a" else { continue }
                let target = Self.hosts[old.host == "b" ? 2 : 1]
                serial += 1
                var moved = old
                (moved.endpointID, moved.host, moved.vtep, moved.mac) = ("e\(serial)", target.name, target.vtep, MACAddress(bytes: [0x02, 0, 0, 1, 0x43, UInt8(serial & 0xff)])!)
                live[moved.key] = moved
                await cluster.states[target.name]!.announce(moved)
                await cluster.driver.remoteChanged([Self.vni])
                live[key] = nil
                await cluster.states[old.host]!.withdraw(endpoint: key)
                action = "move \(old.address) from \(old.host) to \(target.name)"
            case 7:
                // The same endpoint announced again with another MAC.
                guard let key = live.keys.sorted().randomElement(using: &random), var endpoint = live[key] else { continue }
                endpoint.mac = MACAddress(bytes: [0x02, 0, 0, 0, 0x43, UInt8(pick(1...8))])!
                live[key] = endpoint
                await cluster.states[endpoint.host]!.announce(endpoint)
                action = "re-announce \(endpoint.address) with \(endpoint.mac)"
            case 8:
                let other = Self.hosts[pick(1...2)]
                await cluster.a.apply(.dead(other.member))
                action = "\(other.name) fails"
            case 9:
                let other = Self.hosts[pick(1...2)]
                await cluster.a.apply(.join(other.member))
                action = "\(other.name) returns"
            case 10:
                guard host.name != "a" else { continue }
                let block = pick(0...2)
                _ = await state.claim(BlockClaim(subnet: .v4(Self.subnet4), block: block, host: host.name))
                action = "\(host.name) claims block \(block)"
            case 11...12:
                // Another host's endpoint with the same MAC at another address (a shared MAC's FDB entry names one VTEP).
                guard let key = live.keys.sorted().randomElement(using: &random), let original = live[key], original.host != "a" else { continue }
                let other = Self.hosts[original.host == "b" ? 2 : 1]
                serial += 1
                var twin = Self.endpoint("e\(serial)", host: other, low: pick(2...40), mac: 0, dualStack: pick(0...1) == 0)
                twin.mac = original.mac
                live[twin.key] = twin
                await cluster.states[other.name]!.announce(twin)
                action = "announce \(twin.address) with \(original.address)'s MAC \(twin.mac) on \(other.name)"
            case 13:
                // The path service routes b through c, or everything directly again.
                let routes = await cluster.driver.relayRoutes == .direct ? RelayRoutes(via: [Self.hosts[1].vtep: Self.hosts[2].vtep]) : .direct
                await cluster.driver.setRelays(routes)
                action = routes == .direct ? "direct paths" : "b through relay c"
            default:
                // A host withdraws the network (and its endpoints), then defines it again.
                guard host.name != "a" else { continue }
                await state.withdraw(network: Self.vni)
                live = live.filter { $0.value.host != host.name }
                await cluster.driver.remoteChanged([Self.vni])
                await state.announce(Cluster.network(host))
                action = "\(host.name) withdraws and redefines the network"
            }
            await cluster.driver.remoteChanged([Self.vni])
            let plan = try await cluster.repairPlan()
            #expect(plan.isEmpty, "seed \(seed), step \(step) (\(action)): a repair would still do \(plan)")
            let (kernel, wanted) = try await cluster.tables()
            #expect(kernel == wanted, "seed \(seed), step \(step) (\(action))")
            #expect(cluster.backend.take().dumps == 0, "a change pass reads nothing back")
            if !plan.isEmpty || kernel != wanted { return }
        }
        await cluster.driver.reconcileAllRemote()
        #expect(cluster.backend.take().operations == 0, "the repair pass finds nothing to correct")
    }

    @Test("the cluster reports only the addresses a change touched")
    func changesAreReportedByAddress() async throws {
        let cluster = try await Cluster()
        let b = Self.hosts[1]
        for index in 0..<30 { await cluster.states["b"]!.announce(Self.endpoint("e\(index)", host: b, low: 2 + index, mac: UInt8(index + 1), dualStack: true)) }
        _ = await cluster.a.takeRemoteEndpoints(vni: Self.vni)
        #expect(await cluster.a.takeRemoteChanges(vni: Self.vni) == .addresses([:]))

        let added = Self.endpoint("new", host: b, low: 100, mac: 0x99, dualStack: true)
        await cluster.states["b"]!.announce(added)
        guard case .addresses(let changes) = await cluster.a.takeRemoteChanges(vni: Self.vni) else {
            Issue.record("an endpoint's announcement needs no full recomputation")
            return
        }
        #expect(Set(changes.keys) == [.v4(added.address), .v6(added.address6!)])
        #expect(changes[.v4(added.address)]?.endpoint == RemoteEndpoint(address: .v4(added.address), mac: added.mac, vtep: b.vtep))
        #expect(changes[.v4(added.address)]?.written != nil)

        // An endpoint of this host takes the address: it is not remote any more.
        var local = added
        (local.endpointID, local.host, local.vtep) = ("mine", "a", Self.hosts[0].vtep)
        await cluster.a.announce(local)
        guard case .addresses(let taken) = await cluster.a.takeRemoteChanges(vni: Self.vni) else {
            Issue.record("a local endpoint needs no full recomputation")
            return
        }
        #expect(taken[.v4(added.address)] == .some(ClusterState.RemoteEndpointChange(endpoint: nil, written: nil)))

        // A network definition that changes makes the whole network recomputed.
        await cluster.states["c"]!.withdraw(network: Self.vni)
        #expect(await cluster.a.takeRemoteChanges(vni: Self.vni) == .everything)
        #expect(await cluster.a.takeRemoteChanges(vni: Self.vni) == .addresses([:]))
    }

    @Test("an address that moves between hosts costs the same operations with 10 or 1,000 endpoints, and no dump",
          arguments: [10, 1000])
    func aMoveCostsAConstantNumberOfOperations(endpoints: Int) async throws {
        let cluster = try await Cluster()
        let (b, c) = (Self.hosts[1], Self.hosts[2])
        for index in 0..<endpoints {
            await cluster.states["b"]!.announce(EndpointAnnouncement(
                vni: Self.vni, endpointID: "e\(index)", address: IPv4Address(0x0A01_0100 + UInt32(index)),
                mac: MACAddress(bytes: [0x02, 0, 0, 2, UInt8(index >> 8), UInt8(index & 0xff)])!, host: b.name, vtep: b.vtep))
        }
        await cluster.driver.remoteChanged([Self.vni])
        _ = cluster.backend.take()

        let moving = Self.endpoint("moving", host: b, low: 20, mac: 1, dualStack: true)
        await cluster.states["b"]!.announce(moving)
        await cluster.driver.remoteChanged([Self.vni])
        #expect(cluster.backend.take() == CountingBackend.Counts(operations: 3, dumps: 0, reads: 2), "one FDB and two neighbour entries")

        var moved = moving
        (moved.endpointID, moved.host, moved.vtep, moved.mac) = ("moved", c.name, c.vtep, MACAddress(bytes: [0x02, 0, 0, 3, 0, 1])!)
        await cluster.states["c"]!.announce(moved)
        await cluster.states["b"]!.withdraw(endpoint: moving.key)
        await cluster.driver.remoteChanged([Self.vni])
        #expect(cluster.backend.take() == CountingBackend.Counts(operations: 4, dumps: 0, reads: 2),
                "the old MAC's FDB entry goes, the new one's comes, both neighbour entries change")
        #expect(try await cluster.repairPlan().isEmpty)
    }
}

/// A seeded generator, so that a failing sequence can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
