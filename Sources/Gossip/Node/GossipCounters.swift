/// What a node counts, for operators and tests: dropped input and protocol activity.
public struct GossipCounters: Sendable, Hashable {
    /// Packets that failed to decode (bad CRC, bad encryption, plaintext while encrypted, malformed), dropped.
    public var malformedPackets = 0
    /// Streams whose message failed to decode or did not arrive in time, dropped.
    public var malformedStreams = 0
    /// Inbound streams closed unread because too many were already being served.
    public var refusedStreams = 0
    /// Packets and streams ignored while the node was unresponsive (``GossipNode/setResponsive(_:)``).
    public var ignoredWhileUnresponsive = 0
    /// Packets received and decoded.
    public var packetsReceived = 0
    /// Packets sent.
    public var packetsSent = 0
    /// Probes that failed (the target became suspect).
    public var failedProbes = 0
    /// Times this node refuted a suspicion or death about itself.
    public var refutations = 0
    /// Alive messages about a known node from a different address, refused.
    public var addressConflicts = 0
    /// Push/pull exchanges completed (either side).
    public var pushPulls = 0
    /// Application broadcasts dropped because they cannot fit in one packet.
    public var oversizedBroadcasts = 0
    /// Push/pull merges refused by the protocol version check.
    public var refusedMerges = 0

    /// All zero.
    public init() {}
}
