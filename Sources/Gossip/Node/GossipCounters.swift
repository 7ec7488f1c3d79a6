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
    /// Suspect, dead and left messages refused: the accuser is not a current member, or the incarnation is more
    /// than one above the one known for the node.
    public var refusedAccusations = 0
    /// Alive messages about a known node refused: the incarnation is too far above the one known.
    public var refusedAlives = 0
    /// New nodes refused because ``GossipConfiguration/maxMembers`` nodes are known and none is gone.
    public var refusedMembers = 0
    /// Compressed UDP packets refused (``GossipConfiguration/acceptCompressedPackets`` is off).
    public var refusedCompressedPackets = 0
    /// Datagrams dropped because the inbound queue was full (counted by the transport).
    public var droppedPackets = 0
    /// Inbound streams closed unread because their source already holds
    /// ``GossipConfiguration/maxStreamsPerSource`` streams.
    public var refusedStreamsPerSource = 0
    /// Inbound streams closed because no byte arrived within ``GossipConfiguration/streamFirstByteTimeout``.
    public var silentStreams = 0
    /// Streams refused because a declared length or count was over its limit (before reading the data).
    public var oversizedStreams = 0
    /// Indirect probe requests dropped because ``GossipConfiguration/maxIndirectProbes`` were running.
    public var refusedIndirectProbes = 0
    /// Application broadcasts dropped from a full queue before being fully gossiped.
    public var droppedBroadcasts = 0
    /// Datagrams that could not be sent (the error was counted, the datagram dropped, the socket kept).
    public var failedSends = 0
    /// Alive messages and indirect probe requests whose address is not 4 or 16 bytes, dropped.
    public var invalidAddresses = 0

    /// Messages and bytes sent, by message type (``MessageTraffic``).
    public var sent = MessageTraffic()
    /// Messages and bytes received and decoded, by message type.
    public var received = MessageTraffic()

    /// All zero.
    public init() {}
}
