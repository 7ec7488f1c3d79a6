/// The IPv6 counterpart of a gratuitous ARP: an unsolicited neighbour advertisement (RFC 4861 §7.2.6) for an
/// address, from that address, to all nodes (`ff02::1`), with the override flag and the new MAC as target
/// link-layer address. A node that already has the address in its neighbour cache takes the new MAC (as STALE,
/// then confirms it); others ignore it, as they ignore a gratuitous ARP.
enum NeighbourAdvertisement {
    /// `33:33:00:00:00:01`, the Ethernet multicast address of `ff02::1`.
    static let allNodesMAC: [UInt8] = [0x33, 0x33, 0x00, 0x00, 0x00, 0x01]
    /// `ff02::1`.
    static let allNodes: [UInt8] = [0xFF, 0x02] + [UInt8](repeating: 0, count: 13) + [0x01]

    /// The Ethernet frame for `address` (16 bytes) at `mac`.
    static func frame(address: [UInt8], mac: MACAddress) -> [UInt8] {
        precondition(address.count == 16, "an IPv6 address has 16 bytes")
        // type 136, code 0, checksum (filled below), flags: override; target; option 2 (target link-layer), length 1
        var icmp: [UInt8] = [136, 0, 0, 0, 0x20, 0, 0, 0] + address + [2, 1] + mac.bytes
        let checksum = Self.checksum(source: address, destination: allNodes, icmp: icmp)
        icmp[2] = UInt8(checksum >> 8)
        icmp[3] = UInt8(checksum & 0xFF)
        let length = UInt16(icmp.count)
        let ipv6: [UInt8] = [0x60, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 58, 255] + address + allNodes
        return allNodesMAC + mac.bytes + [0x86, 0xDD] + ipv6 + icmp
    }

    /// The ICMPv6 checksum: the one's complement sum over the pseudo-header and the message.
    static func checksum(source: [UInt8], destination: [UInt8], icmp: [UInt8]) -> UInt16 {
        let length = UInt32(icmp.count)
        let pseudo = source + destination
            + [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)]
            + [0, 0, 0, 58]
        let bytes = pseudo + icmp + (icmp.count % 2 == 1 ? [0] : [])
        var sum: UInt32 = 0
        for index in stride(from: 0, to: bytes.count, by: 2) {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
        }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
