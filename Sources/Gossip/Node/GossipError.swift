/// Why a gossip operation failed.
public enum GossipError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No seed answered the join push/pull.
    case joinFailed([String])
    /// The metadata is larger than memberlist's 512-byte limit.
    case metaTooLarge(Int)
    /// A push/pull reply was not a push/pull.
    case unexpectedReply(String)
    /// A push/pull was refused: a node's versions do not fit the cluster's.
    case incompatibleProtocol(node: String, versions: [UInt8])
    /// The node is not running.
    case notRunning
    /// The key is not in the keyring.
    case unknownKey
    /// The primary key cannot be removed; make another key primary first.
    case removingPrimaryKey
    /// A seed of one address family, and this node gossiping from the other: neither can reach the other.
    case addressFamilyMismatch(seed: GossipAddress, local: GossipAddress)

    /// ``addressFamilyMismatch(seed:local:)`` when `seed` and `local` differ in family; nil when they agree or
    /// `local` is a wildcard (0.0.0.0 or ::, which may reach both).
    public static func otherAddressFamily(seed: GossipAddress, local: GossipAddress) -> GossipError? {
        guard seed.ip.isIPv4 != local.ip.isIPv4, local.ip.bytes.contains(where: { $0 != 0 }) else { return nil }
        return .addressFamilyMismatch(seed: seed, local: local)
    }

    public var description: String {
        switch self {
        case .joinFailed(let reasons): "could not join any seed: \(reasons.joined(separator: "; "))"
        case .metaTooLarge(let size): "node metadata is \(size) bytes, over the 512-byte limit"
        case .unexpectedReply(let what): "unexpected reply to a push/pull: \(what)"
        case .incompatibleProtocol(let node, let versions):
            "node \(node)'s versions \(versions) are incompatible with the cluster's"
        case .notRunning: "the gossip node is not running"
        case .unknownKey: "the key is not installed"
        case .removingPrimaryKey: "the primary key cannot be removed; use another key first"
        case .addressFamilyMismatch(let seed, let local):
            "seed \(seed) is \(seed.ip.isIPv4 ? "IPv4" : "IPv6") but this host gossips from \(local) "
                + "(\(local.ip.isIPv4 ? "IPv4" : "IPv6")): a weft cluster's gossip and VXLAN use one underlay "
                + "address family; give every host an advertise address of the same family"
        }
    }
}
