import Netlink

/// A weft network on this host, as created by Docker's CreateNetwork and persisted.
public struct NetworkRecord: Codable, Sendable, Equatable {
    /// Docker's NetworkID (local to this engine; the cluster-wide identity is the VNI).
    public var id: String
    public var vni: VNI
    public var subnet: IPv4Subnet
    public var gateway: IPv4Address?
    public var mtu: UInt32
    public var isInternal: Bool
    /// The IPv6 subnet of a dual-stack network (`--ipv6`); nil for IPv4 only.
    public var subnet6: IPv6Subnet?
    /// The IPv6 gateway address Docker's IPAM reserved, the same on every host.
    public var gateway6: IPv6Address?
    /// `true` for an encrypted network (`-o encrypted`): its VXLAN runs between WireGuard tunnel addresses.
    /// Absent in plain records (and in those saved before encryption existed).
    public var encrypted: Bool?
    /// `false` for a network that never uses relay hosts (`-o weft.relay=off`); absent otherwise.
    public var relay: Bool?

    public init(id: String, vni: VNI, subnet: IPv4Subnet, gateway: IPv4Address?, mtu: UInt32, isInternal: Bool,
                subnet6: IPv6Subnet? = nil, gateway6: IPv6Address? = nil, encrypted: Bool = false, relay: Bool = true) {
        self.encrypted = encrypted ? true : nil
        self.relay = relay ? nil : false
        self.subnet6 = subnet6
        self.gateway6 = gateway6
        self.id = id
        self.vni = vni
        self.subnet = subnet
        self.gateway = gateway
        self.mtu = mtu
        self.isInternal = isInternal
    }

    /// Docker's short form of the ID, as `docker network ls` shows it.
    public var shortID: String { String(id.prefix(12)) }

    public var isEncrypted: Bool { encrypted == true }
    /// Whether the network's traffic may go through relay hosts (plain networks without `weft.relay=off`).
    public var allowsRelay: Bool { relay != false && !isEncrypted }
}

/// An endpoint (a container's attachment to a network) on this host.
public struct EndpointRecord: Codable, Sendable, Equatable {
    public var id: String
    public var networkID: String
    public var address: IPv4Address
    public var prefixLength: Int
    public var mac: MACAddress
    /// Whether weft chose the MAC (and so reports it to Docker) or Docker passed it in.
    public var macChosenByWeft: Bool
    /// The IPv6 address on a dual-stack network.
    public var address6: IPv6Address?

    public init(id: String, networkID: String, address: IPv4Address, prefixLength: Int, mac: MACAddress,
                macChosenByWeft: Bool, address6: IPv6Address? = nil) {
        self.address6 = address6
        self.id = id
        self.networkID = networkID
        self.address = address
        self.prefixLength = prefixLength
        self.mac = mac
        self.macChosenByWeft = macChosenByWeft
    }

    public var shortID: String { String(id.prefix(12)) }
}
