import Netlink
import Overlay
import Testing

/// The relay's forwarding decisions: owner checks, floods to exactly the relayed hosts, hostile packets.
struct RelayTableTests {
    let a = IPAddress("192.0.2.1")!
    let b = IPAddress("192.0.2.2")!  // this host, the relay
    let c = IPAddress("192.0.2.3")!
    let d = IPAddress("192.0.2.4")!
    let vni = VNI(42)!
    let macC = MACAddress("02:00:00:00:00:0c")!
    let macD = MACAddress("02:00:00:00:00:0d")!

    var table: RelayTable {
        RelayTable(
            local: b, clients: [a: [c]], owners: [vni: [macC: c, macD: d]], members: [vni: [a, b, c, d]])
    }

    func packet(vni: VNI, to mac: MACAddress, length: Int = 64) -> [UInt8] {
        var bytes: [UInt8] = [0x08, 0, 0, 0, UInt8(vni.value >> 16), UInt8((vni.value >> 8) & 0xFF), UInt8(vni.value & 0xFF), 0]
        bytes += mac.bytes + [0x02, 0, 0, 0, 0, 0x0a, 0x08, 0x00]
        return bytes + [UInt8](repeating: 0, count: max(0, length - bytes.count))
    }

    @Test func unicastGoesToTheOwnerOnlyWhenTheSenderRelaysToIt() {
        #expect(table.decide(packet(vni: vni, to: macC), from: a) == .forward([c]))
        #expect(table.decide(packet(vni: vni, to: macD), from: a) == .drop(.notRelayed))
    }

    @Test func broadcastAndUnknownUnicastGoToExactlyTheRelayedHostsOfTheNetwork() {
        let broadcast = MACAddress("ff:ff:ff:ff:ff:ff")!
        #expect(table.decide(packet(vni: vni, to: broadcast), from: a) == .forward([c]))
        #expect(table.decide(packet(vni: vni, to: MACAddress("02:00:00:00:00:99")!), from: a) == .forward([c]))
        var two = table
        two.clients[a] = [c, d]
        #expect(two.decide(packet(vni: vni, to: broadcast), from: a) == .forward([c, d]))
        // A network C does not have: nowhere.
        #expect(table.decide(packet(vni: VNI(7)!, to: broadcast), from: a) == .drop(.noDestination))
    }

    @Test func strangersMalformedAndOversizedPacketsAreDropped() {
        #expect(table.decide(packet(vni: vni, to: macC), from: d) == .drop(.notAClient))
        #expect(table.decide(packet(vni: vni, to: macC), from: IPAddress("203.0.113.9")!) == .drop(.notAClient))
        #expect(table.decide([0x08, 0, 0], from: a) == .drop(.malformed))
        var noFlag = packet(vni: vni, to: macC)
        noFlag[0] = 0
        #expect(table.decide(noFlag, from: a) == .drop(.malformed))
        #expect(table.decide(packet(vni: vni, to: macC, length: RelayTable.maxPacket + 1), from: a) == .drop(.oversized))
        #expect(table.decide(packet(vni: PathProbe.vni, to: macC), from: a) == .drop(.strayProbe))
    }

    @Test func neverBackToTheSenderOrToItself() {
        var table = self.table
        table.clients[a] = [a, b, c]  // a hostile advert naming the sender and the relay
        table.owners[vni]?[MACAddress("02:00:00:00:00:0a")!] = a
        #expect(table.decide(packet(vni: vni, to: MACAddress("02:00:00:00:00:0a")!), from: a) == .drop(.notRelayed))
        #expect(table.decide(packet(vni: vni, to: MACAddress("ff:ff:ff:ff:ff:ff")!), from: a) == .forward([c]))
    }

    @Test func theRateLimitAdmitsTheBurstThenTheRate() {
        var limit = RelayRateLimit(rate: 10, burst: 5)
        let admitted = (0..<20).count { _ in limit.admit(a, now: 0) }
        #expect(admitted == 5)
        #expect(limit.admit(a, now: 0.05) == false)
        #expect(limit.admit(a, now: 0.2) == true)
        #expect(limit.admit(b, now: 0.2) == true)
    }

    @Test func probeAnswersAreRecognisedOnlyFromTheHostTheyName() throws {
        let request = try #require(PathProbe.request(from: b, to: c))
        // C's kernel answers: swap MACs and addresses, ARP reply.
        var reply = request
        let macB = PathProbe.mac(for: b)!.bytes
        let macCProbe = PathProbe.mac(for: c)!.bytes
        reply.replaceSubrange(8..<14, with: macB)
        reply.replaceSubrange(14..<20, with: macCProbe)
        reply[29] = 2
        reply.replaceSubrange(30..<36, with: macCProbe)
        reply.replaceSubrange(36..<40, with: c.bytes)
        reply.replaceSubrange(40..<46, with: macB)
        reply.replaceSubrange(46..<50, with: b.bytes)
        #expect(table.decide(reply, from: c) == .probeAnswer(c))
        #expect(table.decide(reply, from: d) == .drop(.strayProbe))
        #expect(table.decide(request, from: c) == .drop(.strayProbe))
    }
}
