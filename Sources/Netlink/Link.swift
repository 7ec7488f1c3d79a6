/// What a link is: the kinds weft creates, with their kind-specific settings.
public enum LinkKind: Hashable, Sendable {
    case bridge
    case vxlan(VXLANConfig)
    case veth(peer: VethPeer)
    /// The kernel's WireGuard device; its keys and peers are set over generic netlink (``WireGuardMessages``).
    case wireguard

    /// The kernel's name for the kind (`IFLA_INFO_KIND`).
    public var kernelName: String {
        switch self {
        case .bridge: "bridge"
        case .vxlan: "vxlan"
        case .veth: "veth"
        case .wireguard: "wireguard"
        }
    }
}

/// Every VXLAN attribute weft sends. All are explicit, so a kernel default never decides behaviour.
public struct VXLANConfig: Hashable, Sendable {
    public var vni: VNI
    /// UDP destination port; sent big-endian as the kernel expects.
    public var port: UInt16
    /// The local VTEP address (this host's advertise address).
    public var local: IPAddress?
    /// The underlay device the VXLAN socket is bound to.
    public var lowerDevice: LinkReference?
    public var learning: Bool
    /// Answer ARP from the neighbour table instead of flooding it.
    public var proxy: Bool
    public var l2miss: Bool
    public var l3miss: Bool
    public var udpChecksum: Bool
    public var ttl: UInt8

    public init(
        vni: VNI, port: UInt16 = 4789, local: IPAddress? = nil, lowerDevice: LinkReference? = nil,
        learning: Bool = false, proxy: Bool = true, l2miss: Bool = false, l3miss: Bool = false,
        udpChecksum: Bool = true, ttl: UInt8 = 64
    ) {
        self.vni = vni
        self.port = port
        self.local = local
        self.lowerDevice = lowerDevice
        self.learning = learning
        self.proxy = proxy
        self.l2miss = l2miss
        self.l3miss = l3miss
        self.udpChecksum = udpChecksum
        self.ttl = ttl
    }
}

/// The second end of a veth pair, optionally created directly in another namespace.
public struct VethPeer: Hashable, Sendable {
    public var name: String
    public var mtu: UInt32?
    public var mac: MACAddress?
    /// An open namespace descriptor (`NetworkNamespace.fd`) the peer is created in; nil for the same namespace.
    public var namespaceFD: Int32?

    public init(name: String, mtu: UInt32? = nil, mac: MACAddress? = nil, namespaceFD: Int32? = nil) {
        self.name = name
        self.mtu = mtu
        self.mac = mac
        self.namespaceFD = namespaceFD
    }
}

/// A link to create.
public struct LinkSpec: Hashable, Sendable {
    public var name: String
    public var kind: LinkKind
    public var mtu: UInt32?
    public var mac: MACAddress?

    public init(name: String, kind: LinkKind, mtu: UInt32? = nil, mac: MACAddress? = nil) {
        self.name = name
        self.kind = kind
        self.mtu = mtu
        self.mac = mac
    }
}

/// Changes to an existing link; nil leaves a property as it is.
public struct LinkChanges: Hashable, Sendable {
    public enum Master: Hashable, Sendable {
        case bridge(LinkReference)
        case none
    }

    public var up: Bool?
    public var mtu: UInt32?
    public var mac: MACAddress?
    public var master: Master?
    public var name: String?
    /// Moves the link into the namespace open at this descriptor.
    public var namespaceFD: Int32?
    /// IPv4 forwarding for packets arriving on this link (`net.ipv4.conf.<link>.forwarding`), set over netlink
    /// because a managed plugin's `/proc/sys` is read-only.
    public var ipv4Forwarding: Bool?

    public init(
        up: Bool? = nil, mtu: UInt32? = nil, mac: MACAddress? = nil, master: Master? = nil, name: String? = nil,
        namespaceFD: Int32? = nil, ipv4Forwarding: Bool? = nil
    ) {
        self.up = up
        self.mtu = mtu
        self.mac = mac
        self.master = master
        self.name = name
        self.namespaceFD = namespaceFD
        self.ipv4Forwarding = ipv4Forwarding
    }

    public var isEmpty: Bool { self == LinkChanges() }
}

/// Per-port bridge flags (`bridge link set dev PORT learning off neigh_suppress on`).
public struct BridgePortChanges: Hashable, Sendable {
    public var learning: Bool?
    public var neighbourSuppression: Bool?

    public init(learning: Bool? = nil, neighbourSuppression: Bool? = nil) {
        self.learning = learning
        self.neighbourSuppression = neighbourSuppression
    }
}

/// A link as a dump reports it.
public struct Link: Hashable, Sendable {
    public var index: Int32
    public var name: String
    /// `IFLA_INFO_KIND`, or nil for links without one (loopback, physical devices).
    public var kind: String?
    public var mtu: UInt32?
    public var mac: MACAddress?
    public var master: Int32?
    public var isUp: Bool
    /// VXLAN settings, when `kind == "vxlan"`.
    public var vxlan: VXLANConfig?

    public init(
        index: Int32, name: String, kind: String? = nil, mtu: UInt32? = nil, mac: MACAddress? = nil,
        master: Int32? = nil, isUp: Bool = false, vxlan: VXLANConfig? = nil
    ) {
        self.index = index
        self.name = name
        self.kind = kind
        self.mtu = mtu
        self.mac = mac
        self.master = master
        self.isUp = isUp
        self.vxlan = vxlan
    }
}
