import Netlink

/// An endpoint as every host learns it: enough to program the FDB and neighbour entries that reach it.
public struct EndpointAnnouncement: Codable, Sendable, Equatable {
    public var vni: VNI
    public var endpointID: String
    public var address: IPv4Address
    public var mac: MACAddress
    /// The gossip node name of the host it runs on.
    public var host: String
    /// That host's VTEP (its advertise address).
    public var vtep: IPAddress
    /// The endpoint's IPv6 address on a dual-stack network.
    public var address6: IPv6Address?

    public init(vni: VNI, endpointID: String, address: IPv4Address, mac: MACAddress, host: String, vtep: IPAddress,
                address6: IPv6Address? = nil) {
        self.address6 = address6
        self.vni = vni
        self.endpointID = endpointID
        self.address = address
        self.mac = mac
        self.host = host
        self.vtep = vtep
    }

    /// The table key: one entry per endpoint of a network, naming its host, so that no host's record can take
    /// the place of another's.
    public var key: String { "\(vni.value)/\(endpointID)/\(host)" }
}

/// A host's definition of a network it has created, so the same VNI with another subnet is refused everywhere
/// and every host knows where to flood broadcast traffic.
public struct NetworkAnnouncement: Codable, Sendable, Equatable {
    public var vni: VNI
    public var subnet: IPv4Subnet
    public var host: String
    public var vtep: IPAddress
    /// The IPv6 subnet of a dual-stack network.
    public var subnet6: IPv6Subnet?
    /// For an encrypted network: the host's WireGuard public key and endpoint (nil for a plain network, and
    /// from hosts that predate encryption).
    public var wireGuard: WireGuardAnnouncement?

    public init(vni: VNI, subnet: IPv4Subnet, host: String, vtep: IPAddress, subnet6: IPv6Subnet? = nil,
                wireGuard: WireGuardAnnouncement? = nil) {
        self.subnet6 = subnet6
        self.vni = vni
        self.subnet = subnet
        self.host = host
        self.vtep = vtep
        self.wireGuard = wireGuard
    }

    /// The table key: one entry per network per host.
    public var key: String { Self.key(vni: vni, host: host) }

    /// The key of `host`'s definition of the network `vni`.
    public static func key(vni: VNI, host: String) -> String { "\(vni.value)/\(host)" }
}

/// A host's claim on a block of a pool: the host allocates addresses only from blocks it owns, so addresses
/// stay unique across hosts without asking anyone. When two hosts claim a block, the earlier claim (lower
/// version) owns it everywhere.
public struct BlockClaim: Codable, Sendable, Equatable {
    /// The pool's subnet, IPv4 or IPv6.
    public var subnet: IPSubnet
    public var block: Int
    public var host: String

    public init(subnet: IPSubnet, block: Int, host: String) {
        self.subnet = subnet
        self.block = block
        self.host = host
    }

    /// A claim on a block of an IPv4 pool.
    public init(subnet: IPv4Subnet, block: Int, host: String) {
        self.init(subnet: .v4(subnet), block: block, host: host)
    }

    /// The table key: one entry per block per claiming host.
    public var key: String { "\(subnet)/\(block)/\(host)" }
}

/// A host's WireGuard public key and endpoint, as its signed network definitions carry them. Kept as received
/// (the key's bytes, the address's bytes): admission refuses a key that is not 32 bytes and an endpoint that is
/// not the owner's own address, counted and logged, rather than dropping the whole message at decoding.
public struct WireGuardAnnouncement: Codable, Sendable, Equatable {
    public var publicKey: [UInt8]
    public var address: [UInt8]
    /// 0 when the wire value was out of range (refused at admission).
    public var port: UInt16

    public init(publicKey: [UInt8], address: [UInt8], port: UInt16) {
        self.publicKey = publicKey
        self.address = address
        self.port = port
    }

    public init(publicKey: WireGuardKey, endpoint: WireGuardEndpoint) {
        self.init(publicKey: publicKey.bytes, address: endpoint.address.bytes, port: endpoint.port)
    }

    /// The key, nil unless exactly 32 bytes.
    public var key: WireGuardKey? { WireGuardKey(bytes: publicKey) }
    /// The endpoint, nil unless the address is one and the port is not 0.
    public var endpoint: WireGuardEndpoint? {
        guard port != 0, let address = IPAddress(bytes: address) else { return nil }
        return WireGuardEndpoint(address: address, port: port)
    }
}
