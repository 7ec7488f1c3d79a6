import Netlink

/// One peer's paths as `weft status peers` and the metrics show them: the data-path probe's view of the direct
/// path, and the path in use.
public struct PeerPathReport: Sendable, Equatable {
    /// The direct data path (VXLAN port) answers its probes.
    public var dataPathUp: Bool
    /// Smoothed RTT of the data-path probes, in seconds.
    public var dataPathRtt: Double?
    /// Probes in a row without an answer.
    public var dataPathMisses: Int
    /// The relay host in use (its VTEP), nil for direct.
    public var relay: IPAddress?
    /// The relay host's gossip name, when known.
    public var relayName: String?
    /// When the path in use last changed.
    public var since: ContinuousClock.Instant
    /// Why this path.
    public var reason: String

    public init(
        dataPathUp: Bool, dataPathRtt: Double?, dataPathMisses: Int, relay: IPAddress?, relayName: String?,
        since: ContinuousClock.Instant, reason: String
    ) {
        self.dataPathUp = dataPathUp
        self.dataPathRtt = dataPathRtt
        self.dataPathMisses = dataPathMisses
        self.relay = relay
        self.relayName = relayName
        self.since = since
        self.reason = reason
    }
}
