import Netlink

/// Why the relay did not forward a packet (a metric label each).
public enum RelayDrop: String, Sendable, CaseIterable {
    /// Longer than any VXLAN packet weft forwards.
    case oversized
    /// Not a VXLAN packet with a VNI and an inner Ethernet header.
    case malformed
    /// Its sender has published no relaying through this host.
    case notAClient = "not_a_client"
    /// A unicast frame for a host its sender does not relay through this host.
    case notRelayed = "not_relayed"
    /// A flood frame for a network none of its sender's relayed hosts has.
    case noDestination = "no_destination"
    /// The sender's rate limit was hit.
    case rateLimited = "rate_limited"
    /// A probe-VNI packet that is not an answer to this host's probe.
    case strayProbe = "stray_probe"
}

/// What the relay does with one packet arriving on its port.
public enum RelayDecision: Sendable, Equatable {
    /// Send it unchanged to these hosts' VXLAN port.
    case forward([IPAddress])
    /// An answer to this host's data-path probe from this peer.
    case probeAnswer(IPAddress)
    case drop(RelayDrop)
}

/// The relay's view of the cluster, rebuilt from the cluster tables and the path adverts: who relays what through
/// this host, which host owns each MAC of each network, and which hosts have each network. A packet from A is
/// forwarded only to hosts A published it relays through this host: a unicast frame to the owner of its inner
/// destination MAC, a broadcast or unknown-unicast frame to each such host that has the network, once. It never
/// goes to a relay port, so it cannot loop.
public struct RelayTable: Sendable, Equatable {
    /// The largest packet forwarded: a 9000-byte jumbo inner frame with its VXLAN header.
    public static let maxPacket = 9_216

    public var local: IPAddress
    /// Sender VTEP → the hosts it relays through this host.
    public var clients: [IPAddress: Set<IPAddress>]
    /// Per network: MAC → the VTEP of the host that owns it.
    public var owners: [VNI: [MACAddress: IPAddress]]
    /// Per network: the hosts that have it.
    public var members: [VNI: Set<IPAddress>]

    public init(
        local: IPAddress, clients: [IPAddress: Set<IPAddress>] = [:], owners: [VNI: [MACAddress: IPAddress]] = [:],
        members: [VNI: Set<IPAddress>] = [:]
    ) {
        self.local = local
        self.clients = clients
        self.owners = owners
        self.members = members
    }

    public func decide(_ packet: [UInt8], from source: IPAddress) -> RelayDecision {
        guard packet.count <= Self.maxPacket else { return .drop(.oversized) }
        guard let frame = VXLANFrame(packet) else { return .drop(.malformed) }
        if frame.vni == PathProbe.vni {
            return PathProbe.replier(of: packet, outerSource: source, local: local).map { .probeAnswer($0) } ?? .drop(.strayProbe)
        }
        guard let relayed = clients[source], !relayed.isEmpty else { return .drop(.notAClient) }
        let isUnicast = frame.destination.bytes[0] & 0x01 == 0
        if isUnicast, let owner = owners[frame.vni]?[frame.destination] {
            return relayed.contains(owner) && owner != local && owner != source ? .forward([owner]) : .drop(.notRelayed)
        }
        let targets = relayed.intersection(members[frame.vni] ?? []).subtracting([local, source])
        return targets.isEmpty ? .drop(.noDestination) : .forward(targets.sorted())
    }
}

/// A token bucket per sender: `rate` packets a second on average, `burst` at once; senders beyond `maxSenders`
/// share one bucket, so memory stays bounded whatever arrives.
public struct RelayRateLimit: Sendable {
    public var rate: Double
    public var burst: Double
    public static let maxSenders = 1024
    private var buckets: [IPAddress: (tokens: Double, at: Double)] = [:]
    private var overflow: (tokens: Double, at: Double)?

    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    /// Takes one token for `sender` at `now` (seconds); false when none is left.
    public mutating func admit(_ sender: IPAddress, now: Double) -> Bool {
        var bucket = buckets[sender] ?? (buckets.count < Self.maxSenders ? (burst, now) : (overflow ?? (burst, now)))
        bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.at) * rate)
        bucket.at = now
        let admitted = bucket.tokens >= 1
        if admitted { bucket.tokens -= 1 }
        if buckets[sender] != nil || buckets.count < Self.maxSenders { buckets[sender] = bucket } else { overflow = bucket }
        return admitted
    }
}
