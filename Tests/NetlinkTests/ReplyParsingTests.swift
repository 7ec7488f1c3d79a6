import Testing
@testable import Netlink
import TestSupport

/// Dump replies and acknowledgements captured from the kernel, parsed into values.
struct ReplyParsingTests {
    @Test func vxlanLinkFromCapturedReply() throws {
        let messages = try MessageView.split(hex(CapturedReplies.vxlanLink)[...])
        #expect(messages.count == 1)
        let link = try MessageDecoder.decodeLink(try #require(messages.first))
        #expect(link.name == "wvx-00002a")
        #expect(link.kind == "vxlan")
        #expect(link.mtu == 1450)
        #expect(link.mac == MACAddress("02:aa:bb:cc:dd:ee"))
        #expect(link.master == 2)
        #expect(link.isUp)
        let vxlan = try #require(link.vxlan)
        #expect(vxlan.vni == VNI(42))
        #expect(vxlan.port == 4789)
        #expect(vxlan.local == IPAddress("192.0.2.1"))
        #expect(vxlan.learning == false)
        #expect(vxlan.proxy)
        #expect(vxlan.udpChecksum)
        #expect(vxlan.ttl == 64)
        #expect(vxlan.lowerDevice == nil)
    }

    @Test func forwardingDatabaseFromCapturedDump() throws {
        let entries = try MessageView.split(hex(CapturedReplies.forwardingDatabase)[...]).map {
            message throws(NetlinkError) -> FDBEntry in
            guard case .fdb(let entry) = try MessageDecoder.decodeNeighbour(message) else {
                throw .malformedMessage("not an FDB entry")
            }
            return entry
        }
        #expect(entries.count == 4)
        let remote = try #require(entries.first { $0.destination != nil })
        #expect(remote.mac == MACAddress("02:00:00:00:00:07"))
        #expect(remote.destination == IPAddress("192.0.2.2"))
        #expect(remote.table == .device)
        #expect(remote.state == .permanent)
        #expect(remote.device == .index(3))
        // The bridge reports its ports' own addresses in its table, with the bridge as master.
        let learned = try #require(entries.first { $0.mac == MACAddress("02:aa:bb:cc:dd:ee") })
        #expect(learned.table == .bridge)
        #expect(learned.master == 2)
    }

    @Test func neighboursFromCapturedDump() throws {
        let messages = try MessageView.split(hex(CapturedReplies.neighbours)[...])
        guard case .neighbour(let entry) = try MessageDecoder.decodeNeighbour(try #require(messages.first)) else {
            Issue.record("expected a neighbour entry")
            return
        }
        #expect(entry.address == IPAddress("10.1.0.7"))
        #expect(entry.mac == MACAddress("02:00:00:00:00:07"))
        #expect(entry.state == .permanent)
        #expect(entry.device == .index(3))
    }

    @Test func extendedAcknowledgementCarriesTheKernelsText() throws {
        let message = try #require(try MessageView.split(hex(CapturedReplies.duplicateVNIAcknowledgement)[...]).first)
        let ack = try Acknowledgement.decode(message)
        #expect(ack.sequence == 7)
        #expect(ack.errno == 17)
        #expect(ack.kernelMessage == "A VXLAN device with the specified VNI already exists")
        let error = NetlinkError.fromAcknowledgement(errno: ack.errno, object: "vxlan wvx-dup", kernelMessage: ack.kernelMessage)
        #expect(error == .alreadyExists(object: "vxlan wvx-dup", kernelMessage: ack.kernelMessage))
        #expect(error.description == "vxlan wvx-dup: File exists (kernel: A VXLAN device with the specified VNI already exists)")
    }

    /// Hostile or truncated bytes give typed errors, never a crash.
    @Test(arguments: [
        "10000000",  // shorter than a header
        "ff000000100000000000000000000000",  // length beyond the buffer
        "0c000000100000000000000000000000",  // length below a header
        "20000000100000000000000000000000" + "00000000050000000000000000000000" + "ff00",  // truncated attribute header
    ])
    func malformedBytesAreRejected(_ dump: String) {
        #expect(throws: NetlinkError.self) {
            for message in try MessageView.split(hex(dump)[...]) {
                _ = try MessageDecoder.decodeLink(message)
            }
        }
    }

    @Test func attributeLongerThanItsMessageIsRejected() {
        // A link reply whose IFLA_IFNAME claims 64 bytes in a 40-byte message.
        let bytes = hex("28000000100000000000000000000000" + "00000000050000000000000000000000" + "40000300 65746830")
        #expect(throws: NetlinkError.self) {
            _ = try MessageDecoder.decodeLink(try #require(try MessageView.split(bytes[...]).first))
        }
    }
}

/// The gratuitous ARP weft sends when an address moves: an Ethernet broadcast ARP request from the address to
/// itself, with the new MAC as sender.
struct GratuitousARPTests {
    @Test func frameIsABroadcastARPRequestFromTheAddressToItself() {
        let arp = GratuitousARP(address: IPAddress("10.1.0.7")!, mac: MACAddress("02:aa:bb:cc:dd:ee")!, device: 3)
        let expected = hex("""
            ffffffffffff 02aabbccddee 0806 // Ethernet: broadcast, from the MAC, ARP
            0001 0800 06 04 0001           // Ethernet/IPv4, sizes 6 and 4, request
            02aabbccddee 0a010007          // sender: the MAC and the address
            000000000000 0a010007          // target: the address again
            """)
        #expect(arp.frame == expected)
    }
}
