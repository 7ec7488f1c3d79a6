import Gossip
import Netlink
import Overlay
import Testing

/// Path adverts between cluster states: signed by their owner, newest wins, and the relay's table built from them.
struct PathAdvertClusterTests {
    static let a = SimulatedHost("a", vtep: "192.0.2.11")
    static let b = SimulatedHost("b", vtep: "192.0.2.12")
    static let c = SimulatedHost("c", vtep: "192.0.2.13")
    static let vni = VNI(42)!

    @Test func aRelayForwardsForAnAdvertisedClientOnlyToWhatItNames() async throws {
        let cluster = SimulatedCluster()
        let a = await cluster.add(Self.a)
        let b = await cluster.add(Self.b)
        let c = await cluster.add(Self.c)
        for (state, host) in [(a, Self.a), (b, Self.b), (c, Self.c)] {
            await state.announce(NetworkAnnouncement(vni: Self.vni, subnet: try IPv4Subnet(parsing: "10.1.0.0/24"), host: host.name, vtep: host.vtep))
        }
        let macC = MACAddress("02:00:00:00:00:0c")!
        await c.announce(EndpointAnnouncement(
            vni: Self.vni, endpointID: "e3", address: IPv4Address(0x0A01_0003), mac: macC, host: "c", vtep: Self.c.vtep))
        #expect(await b.relayTable(local: Self.b.vtep).clients.isEmpty)

        // An RTT whose microseconds do not survive a Double round trip (249 µs: 249 / 1e6 × 1e6 = 248.99…): the
        // signature covers the bytes as sent, so it still verifies.
        await a.publish(PathAdvert(
            owner: "ignored", vtep: Self.a.vtep, sequence: 10, view: [Self.b.vtep: PeerPathView(isUp: true, rtt: 0.000249)],
            relays: [Self.c.vtep: Self.b.vtep]))
        #expect(await b.rejections.isEmpty)
        let table = await b.relayTable(local: Self.b.vtep)
        #expect(table.clients == [Self.a.vtep: [Self.c.vtep]])
        #expect(table.owners[Self.vni]?[macC] == Self.c.vtep)
        #expect(table.members[Self.vni] == [Self.a.vtep, Self.b.vtep, Self.c.vtep])
        #expect(await c.relayTable(local: Self.c.vtep).clients.isEmpty, "c relays for nobody")

        // An older advert changes nothing; a newer one without the relay ends it.
        var old = PathAdvert(owner: "a", vtep: Self.a.vtep, sequence: 5, view: [:], relays: [:])
        old.signature = [UInt8](repeating: 0, count: 64)
        _ = await b.notifyMessage(old.encoded())
        #expect(await b.relayTable(local: Self.b.vtep).clients == [Self.a.vtep: [Self.c.vtep]])
        await a.publish(PathAdvert(owner: "a", vtep: Self.a.vtep, sequence: 11, view: [:], relays: [:]))
        #expect(await b.relayTable(local: Self.b.vtep).clients.isEmpty)
    }

    @Test func forgedAdvertsAreRefused() async throws {
        let cluster = SimulatedCluster()
        _ = await cluster.add(Self.a)
        let b = await cluster.add(Self.b)
        // An advert in a's name with a signature that is not a's; one naming another VTEP; one from a non-member.
        var forged = PathAdvert(owner: "a", vtep: Self.a.vtep, sequence: 1, view: [:], relays: [Self.c.vtep: Self.b.vtep])
        forged.signature = [UInt8](repeating: 1, count: 64)
        #expect(await b.notifyMessage(forged.encoded()) == .done)
        var wrongVTEP = PathAdvert(owner: "a", vtep: Self.c.vtep, sequence: 2, view: [:], relays: [Self.c.vtep: Self.b.vtep])
        wrongVTEP.signature = [UInt8](repeating: 1, count: 64)
        #expect(await b.notifyMessage(wrongVTEP.encoded()) == .done)
        var stranger = PathAdvert(owner: "z", vtep: IPAddress("192.0.2.99")!, sequence: 3, view: [:], relays: [Self.c.vtep: Self.b.vtep])
        stranger.signature = [UInt8](repeating: 1, count: 64)
        #expect(await b.notifyMessage(stranger.encoded()) == .done)
        #expect(await b.relayTable(local: Self.b.vtep).clients.isEmpty)
        #expect(await b.rejections[.pathAdvert] == 3)
        #expect(await b.notifyMessage([PathAdvert.magic, 0xc1]) == .done)
        #expect(await b.malformedMessages == 1)
    }
}
