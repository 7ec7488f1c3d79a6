import Overlay

/// `weft status`: the daemon as a whole, with a health summary in words.
public struct DaemonStatus: Sendable, Equatable, Codable {
    public var version: String
    public var node: String
    public var advertiseAddress: String
    public var uptimeSeconds: Int
    /// nil for a host on its own (no gossip).
    public var gossip: GossipSummary?
    public var networks: NetworksSummary
    public var ipam: [PoolStatus]
    public var lastRepair: RepairStatus?
    /// The WireGuard of encrypted networks: the backend and why, or why there is none.
    public var wireGuard: String? = nil
    /// Each problem in one line; empty when all is well.
    public var problems: [String]

    /// "ok", or the problems one per line.
    public var health: String { problems.isEmpty ? "ok" : problems.joined(separator: "\n") }
}

/// The gossip members by state, and the encryption of the gossip.
public struct GossipSummary: Sendable, Equatable, Codable {
    public var alive: Int
    public var suspect: Int
    public var failed: Int
    public var left: Int
    public var encrypted: Bool
    public var keys: Int
    /// Whether this host has the cluster's tables (a push/pull, or alone long enough).
    public var synchronized: Bool
}

public struct NetworksSummary: Sendable, Equatable, Codable {
    public var count: Int
    public var localEndpoints: Int
    public var remoteEndpoints: Int
}

/// One IPAM pool as this host holds it.
public struct PoolStatus: Sendable, Equatable, Codable {
    public var pool: String
    public var subnet: String
    /// Addresses allocated on this host (gateways included).
    public var inUse: Int
    /// Addresses this host can still hand out without claiming another block (whole pool when on its own).
    public var free: Int
    /// Address blocks claimed by this host; nil on a host on its own (no blocks).
    public var blocksOwned: Int?
    /// Blocks claimed by hosts that are failed or suspect: not reusable until they return or are forgotten.
    public var blocksHeldByUnreachable: Int?
}

/// The last repair pass of the remote entries.
public struct RepairStatus: Sendable, Equatable, Codable {
    public var secondsAgo: Int
    public var networks: Int
    public var written: Int
    public var removed: Int
    public var failed: Int
}

/// `weft status peers`: one gossip member.
public struct PeerStatus: Sendable, Equatable, Codable {
    public var name: String
    public var address: String
    /// alive, suspect, failed or left.
    public var state: String
    /// Seconds since this host saw its state change.
    public var sinceSeconds: Int
    /// Why it is not alive, in words; nil when alive.
    public var reason: String?
    /// memberlist protocol versions (min-max, current) and delegate versions, e.g. `2-5/5 d2-5/5`.
    public var protocolVersions: String
    /// Endpoints it announces (live or held while it is failed).
    public var endpoints: Int
    public var isSelf: Bool
    /// Its VTEP, from its tags.
    public var vtep: String?
    /// Round trips of this host's gossip probes of it, in milliseconds: the newest, the median and the 99th
    /// percentile of the last 64 answered (direct or through another member); nil before an answer.
    public var rttLastMs: Double?
    public var rttP50Ms: Double?
    public var rttP99Ms: Double?
    /// Unanswered probes over all probes of it (0...1); nil before the first probe.
    public var probeLoss: Double?
    /// The per-peer data-path probe of its VXLAN port: `up` or `down` (`failed` after consecutive lost probes);
    /// nil where no probe runs (itself, an IPv6 underlay, no gossip).
    public var dataPath: String? = nil
    /// The data-path probe's smoothed round trip, in milliseconds.
    public var dataPathRttMs: Double? = nil
    /// The path its traffic takes: `direct` or `via NAME (VTEP)`.
    public var path: String? = nil
    /// Seconds since the path last changed, and why it is the path.
    public var pathSinceSeconds: Int? = nil
    public var pathReason: String? = nil
}

/// `weft status networks` and `weft status network X`: one network.
public struct NetworkStatus: Sendable, Equatable, Codable {
    public var id: String
    public var vni: UInt32
    public var subnet: String
    public var gateway: String?
    public var mtu: UInt32
    public var isInternal: Bool
    public var localEndpoints: [LocalEndpointStatus]
    public var remoteEndpoints: [RemoteEndpointStatus]
    /// The other hosts that have the network, by name (their VTEP where the name is unknown).
    public var hosts: [String]
}

public struct LocalEndpointStatus: Sendable, Equatable, Codable {
    public var id: String
    public var address: String
    public var mac: String
}

public struct RemoteEndpointStatus: Sendable, Equatable, Codable {
    public var address: String
    public var mac: String
    public var host: String
    public var vtep: String
}

/// `weft diff`: every network compared; ``matches`` when the kernel is what weft wants.
public struct DiffReport: Sendable, Equatable, Codable {
    public var networks: [NetworkDrift]
    public var matches: Bool { networks.allSatisfy(\.matches) }

    public init(networks: [NetworkDrift]) { self.networks = networks }
}

/// `GET /events`: the events after the asked sequence number, and the newest number (to ask after it next).
public struct EventBatch: Sendable, Equatable, Codable {
    public var latest: UInt64
    public var events: [OverlayEvent]
}
