/// The bounds on what other hosts can make this host hold. Each is checked before a record is merged; a record
/// past one is refused and counted (``ClusterRejection``), never merged in part.
public struct ClusterLimits: Sendable, Equatable {
    /// How far ahead of this host's wall clock a record's clock may be (versions are wall-clock milliseconds,
    /// so a larger one is forged, or from a host whose clock is wrong by more than this).
    public var maxClockSkewMilliseconds: UInt64 = 10 * 60 * 1000
    /// Records (endpoints, networks, block claims and their tombstones) one host may have here; below
    /// ``maxEndpointsPerNetwork``, so that one host cannot fill a network on its own.
    public var maxRecordsPerOwner = 4096
    /// Endpoint records one network (VNI) may have here.
    public var maxEndpointsPerNetwork = 16384
    /// Networks (distinct VNIs) the cluster may define.
    public var maxNetworks = 1024
    /// Hosts with records here; each record carries its host's one VTEP, so this bounds the VTEPs too.
    public var maxVTEPs = 1024
    /// Records of all tables together.
    public var maxRecords = 131_072
    /// Records held back until their owner joins or their network is defined: a joining host's first push/pull
    /// usually arrives before the membership events that make its senders members, so this holds a whole table.
    public var maxPending = 16_384
    /// How long a held-back record waits (seconds) before it is dropped (push/pull brings it again).
    public var pendingLifetime: Double = 120
    /// Records about this host seen from others, remembered until the next ``ClusterState/reassertOwnRecords()``.
    public var maxForeignAboutSelf = 4096
    /// Addresses per IPAM block: a claim names a block below the pool's size divided by this.
    public var blockSize = ClusterAddressAllocator.standardBlockSize
    /// At most one log line per refusal reason per this interval.
    public var logInterval: Duration = .seconds(60)

    public init() {}

    public static let standard = ClusterLimits()
}

/// Why a record from another host was not merged. Counted in ``ClusterState/rejections``.
public enum ClusterRejection: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Its clock is further ahead of this host's wall clock than the allowed skew.
    case clockAhead = "clock-ahead"
    /// Its owner is not the node that wrote it.
    case ownerMismatch = "owner-mismatch"
    /// Its key is not the one its value (or its owner, for a tombstone) gives, or its value names another host.
    case keyMismatch = "key-mismatch"
    /// It is about this host, which alone speaks for itself.
    case aboutThisHost = "about-this-host"
    /// Its owner is not a member (yet): held back until it joins, or dropped.
    case unknownOwner = "unknown-owner"
    /// Its endpoint's network is not defined (yet): held back until it is, or dropped.
    case unknownNetwork = "unknown-network"
    /// Held back, but the holding area was full.
    case pendingFull = "pending-full"
    /// Its owner's gossip tags carry no identity key.
    case noIdentity = "no-identity"
    /// Its owner's tags show another identity key than the one pinned for it.
    case identityChanged = "identity-changed"
    /// Its signature does not verify under its owner's pinned key.
    case badSignature = "bad-signature"
    /// Its VTEP is not its owner's advertised address.
    case vtepMismatch = "vtep-mismatch"
    /// Its WireGuard public key is not 32 bytes.
    case badWireGuardKey = "bad-wireguard-key"
    /// Its WireGuard endpoint is not its owner's advertised address (or has port 0).
    case wireGuardEndpointMismatch = "wireguard-endpoint-mismatch"
    /// Its MAC is multicast or all zeros.
    case badMAC = "bad-mac"
    /// Its address is outside its network's subnet.
    case outsideSubnet = "outside-subnet"
    /// Its address is its network's network, broadcast or gateway address.
    case reservedAddress = "reserved-address"
    /// Its block is past the last block of its pool.
    case blockOutOfRange = "block-out-of-range"
    /// Its owner already has the most records allowed.
    case ownerFull = "owner-full"
    /// Its network already has the most endpoints allowed.
    case networkFull = "network-full"
    /// It would define a network past the most networks allowed.
    case tooManyNetworks = "too-many-networks"
    /// It would add a host (a VTEP) past the most allowed.
    case tooManyVTEPs = "too-many-vteps"
    /// The tables already hold the most records allowed.
    case tablesFull = "tables-full"
    /// A path advert from a non-member, for another VTEP, or not signed by its owner's pinned key.
    case pathAdvert = "path-advert"

    public var description: String { rawValue }
}
