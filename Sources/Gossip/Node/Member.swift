/// A cluster member as this node sees it.
public struct Member: Sendable, Hashable, CustomStringConvertible {
    /// The node's unique name.
    public var name: String
    /// Where it gossips (UDP and TCP).
    public var address: GossipAddress
    /// Its metadata as received (serf: `ff` + msgpack tags).
    public var meta: [UInt8]
    /// Its incarnation number.
    public var incarnation: UInt32
    /// Alive, suspect, dead or left.
    public var state: NodeState
    /// Its six version bytes: protocol min, max, current; delegate min, max, current.
    public var versions: [UInt8]

    /// Makes a member record.
    public init(
        name: String, address: GossipAddress, meta: [UInt8], incarnation: UInt32, state: NodeState,
        versions: [UInt8]
    ) {
        self.name = name
        self.address = address
        self.meta = meta
        self.incarnation = incarnation
        self.state = state
        self.versions = versions
    }

    /// The tags in `meta`, read as serf reads them: `ff` + msgpack map, otherwise `{"role": meta}`.
    public var tags: [String: String] {
        SerfTags.decode(meta)
    }

    public var description: String {
        let tagText = tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return "\(name) \(address) \(state) inc=\(incarnation) \(tagText)"
    }
}

/// A membership change, in the order this node learned of it (memberlist's `EventDelegate`, plus suspicion).
public enum MembershipEvent: Sendable, Hashable {
    /// A node became alive (new, or back from dead or left).
    case join(Member)
    /// An alive node changed its metadata.
    case update(Member)
    /// A node is suspected of having failed.
    case suspect(Member)
    /// A node was declared failed.
    case dead(Member)
    /// A node left gracefully.
    case left(Member)

    /// The member the event is about.
    public var member: Member {
        switch self {
        case .join(let member), .update(let member), .suspect(let member), .dead(let member), .left(let member):
            member
        }
    }
}
