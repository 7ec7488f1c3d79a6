import Netlink

/// The data-path probe: a VXLAN packet on the reserved ``vni`` sent to a peer's VXLAN port carrying an ARP request
/// for the peer's advertise address. The peer's kernel answers it from its probe device (a VXLAN device on that VNI
/// in weft's probe namespace, holding the advertise address) and sends the reply, VXLAN again, to this host's relay
/// port, whose socket is weft's: a reply proves that the peer's VXLAN port is reachable from here, whatever the
/// gossip port does. IPv4 underlays only.
public enum PathProbe {
    /// The VNI of the probe devices, refused to networks.
    public static let vni = VNI(0xFF_FFFF)!
    /// The probe namespace's file name under the namespace directory (not six hex digits, so never a network's).
    public static let namespaceName = "paths"
    /// The probe device's name in the probe namespace.
    public static let deviceName = "wvx-probe"

    /// A host's probe MAC: locally administered, from its IPv4 advertise address.
    public static func mac(for address: IPAddress) -> MACAddress? {
        guard case .v4 = address else { return nil }
        return MACAddress(bytes: [0x02, 0x77] + address.bytes)
    }

    /// The probe from `local` to `peer`: VXLAN header, Ethernet, and a unicast ARP request for the peer's address.
    public static func request(from local: IPAddress, to peer: IPAddress) -> [UInt8]? {
        guard let source = mac(for: local), let target = mac(for: peer) else { return nil }
        var packet = VXLANFrame.header(vni: vni)
        packet += target.bytes + source.bytes + [0x08, 0x06]
        packet += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]
        packet += source.bytes + local.bytes + [UInt8](repeating: 0, count: 6) + peer.bytes
        packet += [UInt8](repeating: 0, count: 18)  // Ethernet minimum
        return packet
    }

    /// The peer whose probe reply `packet` is, when it is an ARP reply on the probe VNI to this host, from the
    /// host it names (the outer source), about that host's own address.
    public static func replier(of packet: [UInt8], outerSource: IPAddress, local: IPAddress) -> IPAddress? {
        guard let frame = VXLANFrame(packet), frame.vni == vni, let localMAC = mac(for: local),
            case .v4 = outerSource, let peerMAC = mac(for: outerSource)
        else { return nil }
        let inner = frame.payloadStart
        // Ethernet (14) + ARP for IPv4 over Ethernet (28).
        guard packet.count >= inner + 42, Array(packet[inner..<inner + 6]) == localMAC.bytes,
            packet[inner + 12] == 0x08, packet[inner + 13] == 0x06
        else { return nil }
        let arp = inner + 14
        guard packet[arp + 6] == 0x00, packet[arp + 7] == 0x02,
            Array(packet[arp + 8..<arp + 14]) == peerMAC.bytes, Array(packet[arp + 14..<arp + 18]) == outerSource.bytes,
            Array(packet[arp + 24..<arp + 28]) == local.bytes
        else { return nil }
        return outerSource
    }
}

/// The fields weft reads from a VXLAN packet (RFC 7348): the VNI and the inner Ethernet frame's destination.
public struct VXLANFrame: Sendable, Equatable {
    public static let headerLength = 8
    public var vni: VNI
    /// The inner frame's destination MAC.
    public var destination: MACAddress
    /// Where the inner Ethernet frame starts.
    public var payloadStart: Int { Self.headerLength }

    /// nil unless `packet` has the VXLAN "VNI present" flag and a whole inner Ethernet header.
    public init?(_ packet: [UInt8]) {
        guard packet.count >= Self.headerLength + 14, packet[0] & 0x08 != 0 else { return nil }
        let value = UInt32(packet[4]) << 16 | UInt32(packet[5]) << 8 | UInt32(packet[6])
        guard let vni = VNI(value), let destination = MACAddress(bytes: Array(packet[8..<14])) else { return nil }
        self.vni = vni
        self.destination = destination
    }

    static func header(vni: VNI) -> [UInt8] {
        [0x08, 0, 0, 0, UInt8(truncatingIfNeeded: vni.value >> 16), UInt8(truncatingIfNeeded: vni.value >> 8),
         UInt8(truncatingIfNeeded: vni.value), 0]
    }
}
