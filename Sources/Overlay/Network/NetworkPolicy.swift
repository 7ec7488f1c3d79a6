import Netlink

/// How a network's VNI and MTU are chosen from its options.
public enum NetworkPolicy {
    /// `-o weft.vni=N`: the network's cluster-wide identity; hosts that use the same VNI share a segment.
    public static let vniOption = "weft.vni"
    /// `-o com.docker.network.driver.mtu=N`, Docker's own MTU option.
    public static let dockerMTUOption = "com.docker.network.driver.mtu"
    /// `-o weft.mtu=N`, the same under weft's name.
    public static let mtuOption = "weft.mtu"

    /// The smallest MTU IPv4 allows.
    public static let minimumMTU: UInt32 = 68

    /// The VNI from `weft.vni`, or one derived from the subnet so that every host creating a network with the
    /// same subnet (and no explicit VNI) lands on the same segment.
    public static func vni(options: NetworkOptions, subnet: IPv4Subnet) -> VNI {
        options.vni ?? derivedVNI(for: subnet)
    }

    /// FNV-1a over the subnet's network address and prefix length, folded to 24 bits; 0 becomes 1.
    /// Deterministic across hosts and releases: changing it would split existing networks.
    public static func derivedVNI(for subnet: IPv4Subnet) -> VNI {
        let hash = FNV1a.hash32(subnet.network.bytes + [UInt8(subnet.prefixLength)])
        let folded = (hash >> 24) ^ (hash & 0xFF_FFFF)
        // The path probes' VNI is never a network's.
        return VNI(folded == 0 ? 1 : folded == PathProbe.vni.value ? folded - 1 : folded)!
    }

    /// The MTU from the options, else the host's default overlay MTU, less WireGuard's headers for an
    /// encrypted network (its VXLAN packets travel inside WireGuard).
    public static func mtu(options: NetworkOptions, host: HostSettings) -> UInt32 {
        if let mtu = options.mtu { return mtu }
        guard options.encrypted else { return host.defaultOverlayMTU }
        let overhead = wireGuardOverhead(host)
        return host.defaultOverlayMTU > overhead + minimumMTU ? host.defaultOverlayMTU - overhead : minimumMTU
    }

    /// WireGuard adds 60 bytes over IPv4 (20 IP, 8 UDP, 32 WireGuard) and 80 over IPv6.
    public static func wireGuardOverhead(_ host: HostSettings) -> UInt32 {
        host.advertiseAddress.isIPv4 ? 60 : 80
    }
}

extension VNI {
    /// The VNI after this one, wrapping from the largest to the smallest.
    var next: VNI { VNI(value == VNI.range.upperBound ? VNI.range.lowerBound : value + 1)! }
}
