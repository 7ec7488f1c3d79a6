import Gossip
import Logging
import Netlink
import Overlay
import Testing

struct ClusterStateTests {
    static let vni = VNI(42)!
    static let a = SimulatedHost("a", vtep: "192.0.2.11")
    static let b = SimulatedHost("b", vtep: "192.0.2.12")
    static let c = SimulatedHost("c", vtep: "192.0.2.13")
    static let d = SimulatedHost("d", vtep: "192.0.2.14")

    static func endpoint(_ id: String, _ ip: String, on host: SimulatedHost, mac: String = "02:00:00:00:00:01") -> EndpointAnnouncement {
        EndpointAnnouncement(vni: vni, endpointID: id, address: address(ip), mac: MACAddress(mac)!, host: host.name, vtep: host.vtep)
    }

    static func network(on host: SimulatedHost, subnet text: String = "10.1.0.0/24") -> NetworkAnnouncement {
        NetworkAnnouncement(vni: vni, subnet: subnet(text), host: host.name, vtep: host.vtep)
    }

    @Test func codecRoundTripsEveryUpdateAndRejectsGarbage() throws {
        let b = Self.b
        let updates: [ClusterCodec.Update] = [
            b.signed(.endpoint(key: "42/e1/b", entry: ReplicatedEntry(version: EntryVersion(clock: 7, node: "b"), owner: "b",
                                                                      value: Self.endpoint("e1", "10.1.0.2", on: b)))),
            .endpoint(key: "42/e2/b", entry: ReplicatedEntry(version: EntryVersion(clock: 8, node: "b"), owner: "b", value: nil)),
            .network(key: "42/b", entry: ReplicatedEntry(version: EntryVersion(clock: 9, node: "b"), owner: "b", value: Self.network(on: b))),
            .claim(key: "10.1.0.0/24/3/b", entry: ReplicatedEntry(version: EntryVersion(clock: 10, node: "b"), owner: "b",
                                                                 value: BlockClaim(subnet: subnet("10.1.0.0/24"), block: 3, host: "b"))),
        ]
        let bytes = ClusterCodec.encode(updates)
        #expect(bytes.first == ClusterCodec.magic)
        #expect(try ClusterCodec.decode(bytes) == updates)
        #expect(updates[0].signature.count == 64)
        for garbage in [[UInt8](), [0x01, 0x02], [ClusterCodec.magic, 0xdd, 0xff, 0xff, 0xff, 0xff], Array(bytes.dropLast(3))] {
            #expect(throws: ClusterCodec.DecodingFailure.self) { _ = try ClusterCodec.decode(garbage) }
        }
    }

    @Test func remoteStateComesFromMessagesAndNewestWinsAnAddress() async throws {
        let cluster = SimulatedCluster()
        let a = await cluster.add(Self.a)
        let b = await cluster.add(Self.b)
        let c = await cluster.add(Self.c)
        await b.announce(Self.network(on: Self.b))
        await c.announce(Self.network(on: Self.c))
        await b.announce(Self.endpoint("e1", "10.1.0.2", on: Self.b))
        #expect(await a.remoteEndpoints(vni: Self.vni).map(\.vtep) == [Self.b.vtep])
        // The address moves to host c before b withdraws it: the newer entry wins everywhere but on b.
        await c.announce(Self.endpoint("e9", "10.1.0.2", on: Self.c, mac: "02:00:00:00:00:09"))
        #expect(await a.remoteEndpoints(vni: Self.vni) == [RemoteEndpoint(address: IPAddress("10.1.0.2")!, mac: MACAddress("02:00:00:00:00:09")!, vtep: Self.c.vtep)])
        #expect(await b.remoteEndpoints(vni: Self.vni).isEmpty, "an address an endpoint of this host holds is never remote")
        // A malformed message is counted and ignored.
        #expect(await a.notifyMessage([ClusterCodec.magic, 0xc1]) == .done)
        #expect(await a.malformedMessages == 1)
        // Push/pull carries everything to a host that missed the broadcasts.
        let late = Self.d.state()
        for host in [Self.a, Self.b, Self.c] { await late.apply(.join(host.member)) }
        await late.mergeRemoteState(await a.localState(join: true), join: true)
        #expect(await late.remoteEndpoints(vni: Self.vni) == (await a.remoteEndpoints(vni: Self.vni)))
        #expect(await late.remoteHosts(vni: Self.vni) == [Self.b.vtep, Self.c.vtep])
        #expect(await a.rejections.isEmpty)
        #expect(await late.rejections.isEmpty)
    }

    @Test func recordsArrivingBeforeTheirOwnerJoinsWaitForIt() async throws {
        let b = Self.b.state()
        await b.announce(Self.network(on: Self.b))
        await b.announce(Self.endpoint("e1", "10.1.0.2", on: Self.b))
        let a = Self.a.state()
        await a.mergeRemoteState(await b.localState(join: true), join: true)
        #expect(await a.remoteEndpoints(vni: Self.vni).isEmpty, "b is not a member yet")
        #expect(await a.pendingRecords == 2)
        await a.apply(.join(Self.b.member))
        #expect(await a.remoteEndpoints(vni: Self.vni).map(\.vtep) == [Self.b.vtep])
        #expect(await a.remoteHosts(vni: Self.vni) == [Self.b.vtep])
        #expect(await a.pendingRecords == 0)
    }

    @Test func anEndpointArrivingBeforeItsNetworkWaitsForIt() async throws {
        let a = Self.a.state()
        await a.apply(.join(Self.b.member))
        let clock = ClusterState.wallClockMilliseconds()
        let endpoint = Self.endpoint("e1", "10.1.0.2", on: Self.b)
        let network = Self.network(on: Self.b)
        _ = await a.notifyMessage(ClusterCodec.encode([Self.b.signed(.endpoint(key: endpoint.key, entry: ReplicatedEntry(
            version: EntryVersion(clock: clock, node: "b"), owner: "b", value: endpoint)))]))
        #expect(await a.remoteEndpoints(vni: Self.vni).isEmpty)
        #expect(await a.pendingRecords == 1)
        _ = await a.notifyMessage(ClusterCodec.encode([Self.b.signed(.network(key: network.key, entry: ReplicatedEntry(
            version: EntryVersion(clock: clock, node: "b"), owner: "b", value: network)))]))
        #expect(await a.remoteEndpoints(vni: Self.vni).map(\.vtep) == [Self.b.vtep])
        #expect(await a.pendingRecords == 0)
    }

    @Test func failedHostsAreSuspendedRestoredAndForgotten() async throws {
        let cluster = SimulatedCluster()
        let a = await cluster.add(Self.a)
        let b = await cluster.add(Self.b)
        await b.announce(Self.network(on: Self.b))
        var changes = a.changes.makeAsyncIterator()
        _ = await changes.next()  // the network
        await b.announce(Self.endpoint("e1", "10.1.0.2", on: Self.b))
        _ = await changes.next()  // the endpoint
        await a.apply(.dead(Self.b.member))
        #expect(await changes.next() == [Self.vni])
        #expect(await a.remoteEndpoints(vni: Self.vni).isEmpty)
        await a.apply(.join(Self.b.member))
        #expect(await a.remoteEndpoints(vni: Self.vni).count == 1)
        await a.apply(.dead(Self.b.member))
        await a.expire(failedHostGrace: 0)
        await a.apply(.join(Self.b.member))
        #expect(await a.remoteEndpoints(vni: Self.vni).isEmpty, "a forgotten host's entries do not come back by themselves")
    }
}
