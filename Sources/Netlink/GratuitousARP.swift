import CMnl
import Glibc

/// A gratuitous ARP: an ARP request for an address from that address, broadcast on a link, which makes every
/// host on the segment that already has the address in its ARP cache take the new MAC at once.
///
/// weft sends one on a network's bridge when a remote address moves to another MAC: the VXLAN device answers
/// ARP locally (`proxy`) and swallows ARP frames, so nothing else would tell the local containers, whose caches
/// would keep the old MAC for up to a minute.
///
/// For an IPv6 address the frame is the IPv6 equivalent, an unsolicited neighbour advertisement
/// (``NeighbourAdvertisement``): the VXLAN device answers neighbour solicitations locally in the same way.
public struct GratuitousARP: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var mac: MACAddress
    /// The link to send it on, in the namespace it is sent in.
    public var device: Int32

    public init(address: IPAddress, mac: MACAddress, device: Int32) {
        self.address = address
        self.mac = mac
        self.device = device
    }

    /// The Ethernet frame: broadcast destination, the MAC as source, an ARP request whose sender and target are
    /// both the address.
    public var frame: [UInt8] {
        guard address.isIPv4 else { return NeighbourAdvertisement.frame(address: address.bytes, mac: mac) }
        let broadcast = [UInt8](repeating: 0xFF, count: 6)
        var frame = broadcast + mac.bytes + [0x08, 0x06]
        frame += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]  // Ethernet, IPv4, sizes, request
        frame += mac.bytes + address.bytes + [UInt8](repeating: 0, count: 6) + address.bytes
        return frame
    }

    public var description: String {
        "\(address.isIPv4 ? "gratuitous ARP" : "unsolicited neighbour advertisement") \(address) is-at \(mac) on link #\(device)"
    }

    /// Sends the frame from a packet socket opened inside `namespace`.
    func send(in namespace: NetworkNamespace) throws(NetlinkError) {
        let frame = self.frame
        let protocolNumber = UInt16(address.isIPv4 ? ETH_P_ARP : ETH_P_IPV6)
        let destination = address.isIPv4 ? [UInt8](repeating: 0xFF, count: 6) : NeighbourAdvertisement.allNodesMAC
        let device = self.device
        let entry: NamespaceThread.Entry = namespace.reference == .current ? .none : .join(fd: namespace.fd)
        try NamespaceThread.run(entry) { () throws(NetlinkError) -> Void in
            let fd = socket(AF_PACKET, Int32(SOCK_RAW.rawValue), Int32(protocolNumber.bigEndian))
            guard fd >= 0 else { throw .socket(action: "open a packet socket", errno: errno) }
            defer { close(fd) }
            var link = sockaddr_ll()
            link.sll_family = UInt16(AF_PACKET)
            link.sll_protocol = protocolNumber.bigEndian
            link.sll_ifindex = device
            link.sll_halen = 6
            withUnsafeMutableBytes(of: &link.sll_addr) { raw in for index in 0..<6 { raw[index] = destination[index] } }
            let sent = frame.withUnsafeBytes { bytes in
                withUnsafePointer(to: &link) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_ll>.size))
                    }
                }
            }
            guard sent == frame.count else { throw .socket(action: "send a gratuitous ARP or neighbour advertisement", errno: errno) }
        }
    }
}
