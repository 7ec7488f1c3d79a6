import Netlink

/// What this host contributes to every network: its VTEP address, the underlay's MTU, the VXLAN port and
/// where weft keeps its per-network namespaces.
public struct HostSettings: Sendable, Equatable {
    /// The address other hosts reach this one at; the local end of every VXLAN tunnel.
    public var advertiseAddress: IPAddress
    /// The MTU of the underlay interface that carries VXLAN traffic.
    public var underlayMTU: UInt32
    /// The UDP port of VXLAN traffic (4789 is IANA's).
    public var vxlanPort: UInt16
    /// Directory of weft's persistent network namespaces, one per network (`/run/weft/netns`).
    public var namespaceDirectory: String

    public init(advertiseAddress: IPAddress, underlayMTU: UInt32, vxlanPort: UInt16 = 4789,
                namespaceDirectory: String = "/run/weft/netns") {
        self.advertiseAddress = advertiseAddress
        self.underlayMTU = underlayMTU
        self.vxlanPort = vxlanPort
        self.namespaceDirectory = namespaceDirectory
    }

    /// VXLAN adds 50 bytes of headers over IPv4 and 70 over IPv6.
    public var encapsulationOverhead: UInt32 { advertiseAddress.isIPv4 ? 50 : 70 }

    /// The MTU an overlay interface gets unless a network says otherwise.
    public var defaultOverlayMTU: UInt32 { underlayMTU - encapsulationOverhead }
}
