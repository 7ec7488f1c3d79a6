import Gossip
import Logging
import Netlink
import Overlay
import Testing

struct ClusterStateTests {
    static func endpoint(_ id: String, _ ip: String, host: String, mac: String = "02:00:00:00:00:01") -> EndpointAnnouncement {
        EndpointAnnouncement(
            vni: VNI(42)!, endpointID: id, address: address(ip), mac: MACAddress(mac)!, host: host,
            vtep: IPAddress(host == "b" ? "192.0.2.12" : "192.0.2.13")!)
    }

    static func member(_ name: String) -> Member {
        Member(name: name, address: GossipAddress(ip: [192, 0, 2, 12], port: 7946), meta: [], incarnation: 1, state: .alive, versions: [])
    }

    @Test func codecRoundTripsEveryUpdateAndRejectsGarbage() throws {
        let updates: [ClusterCodec.Update] = [
            .endpoint(key: "42/e1", entry: ReplicatedEntry(version: EntryVersion(clock: 7, node: "b"), owner: "b",
                                                          value: Self.endpoint("e1", "10.1.0.2", host: "b"))),
            .endpoint(key: "42/e2", entry: ReplicatedEntry(version: EntryVersion(clock: 8, node: "b"), owner: "b", value: nil)),
            .network(key: "42/b", entry: ReplicatedEntry(version: EntryVersion(clock: 9, node: "b"), owner: "b",
                                                        value: NetworkAnnouncement(vni: VNI(42)!, subnet: subnet("10.1.0.0/24"), host: "b", vtep: IPAddress("192.0.2.12")!))),
            .claim(key: "10.1.0.0/24/3/b", entry: ReplicatedEntry(version: EntryVersion(clock: 10, node: "b"), owner: "b",
                                                                 value: BlockClaim(subnet: subnet("10.1.0.0/24"), block: 3, host: "b"))),
        ]
        let bytes = ClusterCodec.encode(updates)
        #expect(bytes.first == ClusterCodec.magic)
        #expect(try ClusterCodec.decode(bytes) == updates)
        for garbage in [[UInt8](), [0x01, 0x02], [ClusterCodec.magic, 0xdd, 0xff, 0xff, 0xff, 0xff], Array(bytes.dropLast(3))] {
            #expect(throws: ClusterCodec.DecodingFailure.self) { _ = try ClusterCodec.decode(garbage) }
        }
    }

    @Test func remoteStateComesFromMessagesAndNewestWinsAnAddress() async throws {
        let a = ClusterState(node: "a", logger: Logger(label: "test"))
        let b = ClusterState(node: "b", logger: Logger(label: "test"))
        let c = ClusterState(node: "c", logger: Logger(label: "test"))
        for (sender, receivers) in [(b, [a, c]), (c, [a, b])] {
            await sender.attach { payload, _ in for receiver in receivers { _ = await receiver.notifyMessage(payload) } }
        }
        await b.announce(Self.endpoint("e1", "10.1.0.2", host: "b"))
        #expect(await a.remoteEndpoints(vni: VNI(42)!).map(\.vtep) == [IPAddress("192.0.2.12")!])
        // The address moves to host c before b withdraws it: the newer entry wins everywhere.
        await c.announce(Self.endpoint("e9", "10.1.0.2", host: "c", mac: "02:00:00:00:00:09"))
        #expect(await a.remoteEndpoints(vni: VNI(42)!) == [RemoteEndpoint(address: IPAddress("10.1.0.2")!, mac: MACAddress("02:00:00:00:00:09")!, vtep: IPAddress("192.0.2.13")!)])
        #expect(await b.remoteEndpoints(vni: VNI(42)!).count == 1)
        // A malformed message is counted and ignored.
        #expect(await a.notifyMessage([ClusterCodec.magic, 0xc1]) == .done)
        #expect(await a.malformedMessages == 1)
        // Push/pull carries everything to a host that missed the broadcasts.
        let late = ClusterState(node: "d", logger: Logger(label: "test"))
        await late.mergeRemoteState(await a.localState(join: true), join: true)
        #expect(await late.remoteEndpoints(vni: VNI(42)!) == (await a.remoteEndpoints(vni: VNI(42)!)))
    }

    @Test func failedHostsAreSuspendedRestoredAndForgotten() async throws {
        let a = ClusterState(node: "a", logger: Logger(label: "test"))
        let b = ClusterState(node: "b", logger: Logger(label: "test"))
        await b.attach { payload, _ in _ = await a.notifyMessage(payload) }
        await b.announce(Self.endpoint("e1", "10.1.0.2", host: "b"))
        var changes = a.changes.makeAsyncIterator()
        _ = await changes.next()  // the announcement
        await a.apply(.dead(Self.member("b")))
        #expect(await changes.next() == [VNI(42)!])
        #expect(await a.remoteEndpoints(vni: VNI(42)!).isEmpty)
        await a.apply(.join(Self.member("b")))
        #expect(await a.remoteEndpoints(vni: VNI(42)!).count == 1)
        await a.apply(.dead(Self.member("b")))
        await a.expire(failedHostGrace: 0)
        await a.apply(.join(Self.member("b")))
        #expect(await a.remoteEndpoints(vni: VNI(42)!).isEmpty, "a forgotten host's entries do not come back by themselves")
    }
}
