import Netlink

/// Each host's address inside weft's WireGuard interface: the VXLAN endpoint of its encrypted networks.
///
/// The scheme, chosen so that no host needs to ask another: the address is in 100.64.0.0/10 (RFC 6598, shared
/// address space, never routed on the internet) and its low 22 bits are the low 22 bits of the host's advertise
/// address. Advertise addresses are unique in a cluster (they are the VTEPs), so two hosts collide only when their
/// advertise addresses differ solely above those 22 bits — that is, when the underlay spans more than one /10.
/// Hosts in such a collision get no peer for each other (fail closed: no FDB entry, no traffic) and the
/// collision is reported, never resolved by guessing.
public enum TunnelAddressing {
    /// 100.64.0.0/10.
    public static let prefix = IPv4Address(0x6440_0000)
    public static let prefixLength: UInt8 = 10

    /// The tunnel address of the host advertised at `address`.
    public static func address(for advertised: IPAddress) -> IPv4Address {
        let bytes = advertised.bytes.suffix(4)
        let low = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) } & 0x003F_FFFF
        return IPv4Address(prefix.value | low)
    }

    /// The tunnel addresses of `hosts` (name → advertise address) that belong to exactly one host; hosts sharing
    /// a tunnel address are left out and listed in `collisions` (tunnel address → host names, sorted).
    public static func assign(_ hosts: [String: IPAddress]) -> (addresses: [String: IPv4Address], collisions: [IPv4Address: [String]]) {
        var byAddress: [IPv4Address: [String]] = [:]
        for (host, advertised) in hosts { byAddress[address(for: advertised), default: []].append(host) }
        var addresses: [String: IPv4Address] = [:]
        var collisions: [IPv4Address: [String]] = [:]
        for (tunnel, owners) in byAddress {
            if owners.count == 1 { addresses[owners[0]] = tunnel } else { collisions[tunnel] = owners.sorted() }
        }
        return (addresses, collisions)
    }
}
