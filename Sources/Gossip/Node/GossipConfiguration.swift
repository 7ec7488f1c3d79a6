import Logging

/// A gossip node's settings. The defaults are memberlist's `DefaultLANConfig` and a serf-compatible version
/// vector, so that Debian's serf agents accept the node and show its tags.
public struct GossipConfiguration: Sendable {
    /// The node's unique name in the cluster.
    public var name: String
    /// serf tags, sent as Meta (`ff` + msgpack map). At most 512 bytes encoded.
    public var tags: [String: String]
    /// The version vector sent in every alive: protocol min, max, current; delegate min, max, current.
    /// `[1,5,2,2,5,5]` joins serf clusters (agent protocol 5); a plain memberlist or Docker networkdb cluster
    /// needs `[1,5,2,0,0,0]`.
    public var versions: [UInt8]
    /// Speak serf's intents too: gossip a serf leave intent before leaving, so serf shows `left`.
    public var serfCompatible: Bool
    /// Encryption, label and input limits.
    public var wire: WireConfig

    /// How often a node is probed (1 s).
    public var probeInterval: Duration
    /// How long to wait for a direct ack before indirect probes (500 ms).
    public var probeTimeout: Duration
    /// How many peers probe a silent node for us (3).
    public var indirectChecks: Int
    /// Broadcasts are sent `retransmitMultiplier × ceil(log10(n + 1))` times (4).
    public var retransmitMultiplier: Int
    /// The shortest suspicion is `suspicionMultiplier × max(1, log10 n) × probeInterval` (4).
    public var suspicionMultiplier: Int
    /// The longest suspicion is this many times the shortest (6).
    public var suspicionMaxTimeoutMultiplier: Int
    /// Lifeguard's awareness bound (8).
    public var awarenessMaxMultiplier: Int
    /// How often to gossip queued broadcasts (200 ms).
    public var gossipInterval: Duration
    /// How many random peers each gossip round goes to (3).
    public var gossipNodes: Int
    /// How long a dead node is still gossiped to, so it can hear of its death and refute (30 s).
    public var gossipToTheDeadTime: Duration
    /// How often to run push/pull anti-entropy with a random peer (30 s, scaled up above 32 nodes).
    public var pushPullInterval: Duration
    /// Deadline for a stream's connect and read (10 s).
    public var tcpTimeout: Duration
    /// Do not fall back to a TCP ping when UDP probes fail.
    public var disableTCPPings: Bool
    /// The UDP payload budget for piggy-backing and gossip (1400 bytes).
    public var udpBufferSize: Int
    /// Compress stream messages (memberlist's `EnableCompression`; UDP is never compressed on send, since every
    /// peer accepts plain packets). Received compressed streams are accepted; compressed UDP packets only with
    /// ``acceptCompressedPackets``.
    public var compressStreams: Bool
    /// How many times each seed is tried when joining, and the first pause between tries (doubled each time).
    public var joinAttempts: Int
    public var joinBackoff: Duration
    /// The incarnation to start at (a restarted node may pass its last known one; the join reply raises it
    /// further if the cluster remembers a higher one).
    public var initialIncarnation: UInt32
    /// How often to try a push/pull with one random failed node, so a healed partition or a restarted peer
    /// is found again (serf's `ReconnectInterval`, 30 s; memberlist alone never does this).
    public var reconnectInterval: Duration
    /// How long a failed node is remembered for reconnection (serf's `ReconnectTimeout`, 24 h).
    public var reconnectTimeout: Duration
    /// The most nodes this node keeps track of, itself and dead or left ones included (1,024). At the cap, a new
    /// node replaces the longest-gone dead or left one, or is refused (counted in
    /// ``GossipCounters/refusedMembers``). Also bounds the node states one push/pull may carry.
    public var maxMembers: Int
    /// How far above the incarnation known for a node an alive about it may be (256). Further ahead is refused
    /// and counted, except from the node itself over a stream (see ``GossipNode`` "Membership rules").
    public var maxIncarnationJump: UInt32
    /// Accept LZW-compressed UDP packets (memberlist's `EnableCompression`, on by default in serf). Off by
    /// default: weft never compresses UDP, and a 64 KiB datagram could otherwise ask for decompression work
    /// far beyond its size. Turn it on to take in gossip from serf or memberlist agents with default settings.
    public var acceptCompressedPackets: Bool
    /// How many inbound streams one source IP may hold open at once; more are closed unread (4).
    public var maxStreamsPerSource: Int
    /// The most bytes all inbound streams being read may hold together (64 MiB); a stream that would go over is
    /// closed and counted in ``GossipCounters/oversizedStreams``.
    public var maxInboundStreamBytes: Int
    /// How long an inbound stream may stay silent before its first byte arrives (2 s).
    public var streamFirstByteTimeout: Duration
    /// How many application broadcasts may wait to be gossiped (4,096); above it, the one sent most often goes
    /// (counted in ``GossipCounters/droppedBroadcasts``). Re-gossiped messages from peers count too.
    public var maxQueuedBroadcasts: Int
    /// How many indirect probes this node runs for others at once; more requests are dropped (1,024: far above
    /// what a cluster asks of one node, which is about `indirectChecks` × probes per second × probe timeout).
    public var maxIndirectProbes: Int
    /// A limit that is hit is logged at most once per this interval, with the count since (10 s).
    public var limitLogInterval: Duration
    /// Where to log.
    public var logger: Logger

    /// memberlist's LAN defaults for a node named `name`.
    public init(name: String, tags: [String: String] = [:], logger: Logger = Logger(label: "weft.gossip")) {
        self.name = name
        self.tags = tags
        self.versions = [1, 5, 2, 2, 5, 5]
        self.serfCompatible = true
        self.wire = WireConfig()
        self.probeInterval = .seconds(1)
        self.probeTimeout = .milliseconds(500)
        self.indirectChecks = 3
        self.retransmitMultiplier = 4
        self.suspicionMultiplier = 4
        self.suspicionMaxTimeoutMultiplier = 6
        self.awarenessMaxMultiplier = 8
        self.gossipInterval = .milliseconds(200)
        self.gossipNodes = 3
        self.gossipToTheDeadTime = .seconds(30)
        self.pushPullInterval = .seconds(30)
        self.tcpTimeout = .seconds(10)
        self.disableTCPPings = false
        self.udpBufferSize = 1400
        self.compressStreams = true
        self.joinAttempts = 3
        self.joinBackoff = .milliseconds(500)
        self.initialIncarnation = 1
        self.reconnectInterval = .seconds(30)
        self.reconnectTimeout = .seconds(24 * 3600)
        self.maxMembers = 1024
        self.maxIncarnationJump = 256
        self.acceptCompressedPackets = false
        self.maxStreamsPerSource = 4
        self.maxInboundStreamBytes = 64 << 20
        self.streamFirstByteTimeout = .seconds(2)
        self.maxIndirectProbes = 1024
        self.maxQueuedBroadcasts = 4096
        self.limitLogInterval = .seconds(10)
        self.logger = logger
    }

    /// Failure detection twice as fast as memberlist's LAN defaults, for a LAN whose round trips stay well
    /// under 100 ms: probes every 500 ms with a 250 ms ack timeout, gossip every 100 ms, so the shortest
    /// suspicion is 2 s instead of 4 s. Twice the probe traffic (a few hundred bytes a second per node).
    public func fastFailureDetection() -> GossipConfiguration {
        var copy = self
        copy.probeInterval = .milliseconds(500)
        copy.probeTimeout = .milliseconds(250)
        copy.gossipInterval = .milliseconds(100)
        return copy
    }

    /// The same settings with every interval and timeout multiplied by `factor` (for fast simulations).
    public func scaled(by factor: Double) -> GossipConfiguration {
        var copy = self
        copy.probeInterval = probeInterval * factor
        copy.probeTimeout = probeTimeout * factor
        copy.gossipInterval = gossipInterval * factor
        copy.gossipToTheDeadTime = gossipToTheDeadTime * factor
        copy.pushPullInterval = pushPullInterval * factor
        copy.tcpTimeout = tcpTimeout * factor
        copy.joinBackoff = joinBackoff * factor
        copy.reconnectInterval = reconnectInterval * factor
        copy.streamFirstByteTimeout = streamFirstByteTimeout * factor
        return copy
    }

    /// The shortest suspicion timeout for a cluster of `nodeCount` entries.
    public func suspicionMinimum(nodeCount: Int) -> Duration {
        LifeguardTiming.suspicionTimeout(multiplier: suspicionMultiplier, nodeCount: nodeCount, interval: probeInterval)
    }
}
