import Netlink

/// How a network's VNI and MTU are chosen from Docker's options.
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
    public static func vni(options: [String: String], subnet: IPv4Subnet) throws(DriverError) -> VNI {
        if let text = options[vniOption] {
            guard let value = UInt32(text), let vni = VNI(value) else {
                throw .invalidOption(name: vniOption, value: text, reason: "a VNI is a number from 1 to 16777215")
            }
            return vni
        }
        return derivedVNI(for: subnet)
    }

    /// FNV-1a over the subnet's network address and prefix length, folded to 24 bits; 0 becomes 1.
    /// Deterministic across hosts and releases: changing it would split existing networks.
    public static func derivedVNI(for subnet: IPv4Subnet) -> VNI {
        let hash = FNV1a.hash32(subnet.network.bytes + [UInt8(subnet.prefixLength)])
        let folded = (hash >> 24) ^ (hash & 0xFF_FFFF)
        return VNI(folded == 0 ? 1 : folded)!
    }

    /// The MTU from the options, else the host's default overlay MTU.
    public static func mtu(options: [String: String], host: HostSettings) throws(DriverError) -> UInt32 {
        for name in [dockerMTUOption, mtuOption] {
            guard let text = options[name] else { continue }
            guard let value = UInt32(text), value >= minimumMTU, value <= 65_535 else {
                throw .invalidOption(name: name, value: text, reason: "an MTU is a number from \(minimumMTU) to 65535")
            }
            return value
        }
        return host.defaultOverlayMTU
    }
}

extension VNI {
    /// The VNI after this one, wrapping from the largest to the smallest.
    var next: VNI { VNI(value == VNI.range.upperBound ? VNI.range.lowerBound : value + 1)! }
}
