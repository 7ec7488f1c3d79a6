/// A member as this node sees it, with how long it has been in its state: what an operator asks first.
public struct MemberStatus: Sendable, Hashable {
    public var member: Member
    /// When this node last saw the member's state change (or first learned of it).
    public var since: ContinuousClock.Instant
    /// What this node's probes of it measured; nil before the first probe (and for this node itself).
    public var probes: ProbeStatistics?

    public init(member: Member, since: ContinuousClock.Instant, probes: ProbeStatistics? = nil) {
        self.member = member
        self.since = since
        self.probes = probes
    }
}

extension GossipNode {
    /// Every known node, this one included, dead and left ones too, each with the time of its last state change.
    public func memberStatuses() -> [MemberStatus] {
        members.values.map { MemberStatus(member: $0.member, since: $0.stateChange, probes: probeStatistics[$0.name]) }.sorted { $0.member.name < $1.member.name }
    }
}

extension GossipNode {
    /// Messages waiting to be gossiped: memberlist's own (alive, suspect, dead) and the application's.
    public var queuedBroadcasts: (membership: Int, application: Int) {
        (broadcasts.count, applicationBroadcasts.count)
    }
}
