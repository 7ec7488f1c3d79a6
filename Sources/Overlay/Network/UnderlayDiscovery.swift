import Netlink

/// Finds the underlay this host's VXLAN traffic uses: the advertise address (the local VTEP) and the MTU of
/// the interface that carries it.
public enum UnderlayDiscovery {
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case addressNotAssigned(IPAddress)
        case noSuchInterface(String)
        case interfaceWithoutIPv4(String)
        case noCandidate

        public var description: String {
            switch self {
            case .addressNotAssigned(let address):
                "advertise address \(address) is not assigned to any interface of this host"
            case .noSuchInterface(let name): "underlay interface \(name) does not exist"
            case .interfaceWithoutIPv4(let name): "underlay interface \(name) has no IPv4 address"
            case .noCandidate:
                "no interface is up with an IPv4 address other than loopback; give --advertise-address or --underlay-interface"
            }
        }
    }

    public struct Underlay: Sendable, Equatable {
        public var interface: String
        public var address: IPAddress
        public var mtu: UInt32

        public init(interface: String, address: IPAddress, mtu: UInt32) {
            self.interface = interface
            self.address = address
            self.mtu = mtu
        }
    }

    /// Whether an underlay address is reachable from the Internet: not private (RFC 1918, shared address space
    /// 100.64/10, loopback, link-local, documentation ranges; IPv6 unique-local, link-local, loopback,
    /// documentation). The gossip and VXLAN ports listen on it, so a public one needs a firewall.
    public static func isPublic(_ address: IPAddress) -> Bool {
        let b = address.bytes
        switch address {
        case .v4:
            let privateRanges: [(prefix: [UInt8], bits: Int)] = [
                ([10], 8), ([172, 16], 12), ([192, 168], 16), ([100, 64], 10), ([127], 8), ([169, 254], 16),
                ([192, 0, 2], 24), ([198, 51, 100], 24), ([203, 0, 113], 24), ([198, 18], 15),
            ]
            return !privateRanges.contains { range in Self.matches(b, range.prefix, bits: range.bits) }
        case .v6:
            if b == [UInt8](repeating: 0, count: 15) + [1] { return false }
            return !(Self.matches(b, [0xfc], bits: 7) || Self.matches(b, [0xfe, 0x80], bits: 10)
                || Self.matches(b, [0x20, 0x01, 0x0d, 0xb8], bits: 32))
        }
    }

    private static func matches(_ bytes: [UInt8], _ prefix: [UInt8], bits: Int) -> Bool {
        var remaining = bits
        for (index, byte) in prefix.enumerated() where remaining > 0 {
            let take = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - take))
            guard index < bytes.count, bytes[index] & mask == byte & mask else { return false }
            remaining -= take
        }
        return true
    }

    /// Picks the underlay: the interface holding `advertiseAddress`, or the first IPv4 address of `interface`,
    /// or else the first interface (by index) that is up and has a non-loopback IPv4 address.
    public static func find(
        links: [Link], addresses: [AssignedAddress], advertiseAddress: IPAddress? = nil, interface: String? = nil
    ) throws(Failure) -> Underlay {
        let linksByIndex = Dictionary(links.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
        func underlay(_ link: Link, _ address: IPAddress) -> Underlay {
            Underlay(interface: link.name, address: address, mtu: link.mtu ?? 1500)
        }
        if let advertiseAddress {
            guard let assigned = addresses.first(where: { $0.address.address == advertiseAddress }),
                let link = linksByIndex[assigned.device]
            else { throw .addressNotAssigned(advertiseAddress) }
            return underlay(link, advertiseAddress)
        }
        if let interface {
            guard let link = links.first(where: { $0.name == interface }) else { throw .noSuchInterface(interface) }
            guard let address = addresses.first(where: { $0.device == link.index && $0.address.address.isIPv4 }) else {
                throw .interfaceWithoutIPv4(interface)
            }
            return underlay(link, address.address.address)
        }
        for link in links.sorted(by: { $0.index < $1.index }) where link.isUp && link.name != "lo" {
            if let address = addresses.first(where: {
                $0.device == link.index && $0.address.address.isIPv4 && $0.address.address.bytes.first != 127
            }) {
                return underlay(link, address.address.address)
            }
        }
        throw .noCandidate
    }
}
