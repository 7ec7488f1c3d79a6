import Netlink

/// Everything weft must remember across restarts, since Docker never replays CreateNetwork, CreateEndpoint
/// or Join: the networks and endpoints of this host and the IPAM allocations.
public struct PersistentState: Codable, Sendable, Equatable {
    public static let currentFormat = 1

    public var formatVersion = PersistentState.currentFormat
    /// By Docker NetworkID.
    public var networks: [String: NetworkRecord] = [:]
    /// By Docker EndpointID.
    public var endpoints: [String: EndpointRecord] = [:]
    public var ipam = AllocatorState()
    /// The address blocks this host has claimed, by pool subnet, so it claims them again after a restart.
    public var claimedBlocks: [String: [Int]] = [:]
    /// Gossip addresses (`host:port`) of the hosts seen last, so a restarted weft rejoins them even when it was
    /// given no seeds (a swarm worker learns its seeds from a CreateNetwork that Docker never replays).
    public var knownPeers: [String] = []
    /// Swarm networks this host allocated as a swarm manager (AllocateNetwork until FreeNetwork), by Docker
    /// NetworkID: their VNIs are taken, and their workers were handed this host as their gossip seed, so it
    /// stays in the gossip while any is left.
    public var allocatedNetworks: [String: SwarmAllocation] = [:]
    /// This node's address as swarm advertises it (DiscoverNew): the advertise address weft starts with next
    /// time when none is configured.
    public var swarmAddress: IPAddress?

    public init() {}

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        formatVersion = try container.decode(Int.self, forKey: .formatVersion)
        networks = try container.decode([String: NetworkRecord].self, forKey: .networks)
        endpoints = try container.decode([String: EndpointRecord].self, forKey: .endpoints)
        ipam = try container.decode(AllocatorState.self, forKey: .ipam)
        claimedBlocks = try container.decodeIfPresent([String: [Int]].self, forKey: .claimedBlocks) ?? [:]
        knownPeers = try container.decodeIfPresent([String].self, forKey: .knownPeers) ?? []
        allocatedNetworks = try container.decodeIfPresent([String: SwarmAllocation].self, forKey: .allocatedNetworks) ?? [:]
        swarmAddress = try container.decodeIfPresent(IPAddress.self, forKey: .swarmAddress)
    }

    public func endpoints(of network: String) -> [EndpointRecord] {
        endpoints.values.filter { $0.networkID == network }.sorted { $0.id < $1.id }
    }
}

/// What a swarm manager's AllocateNetwork gave a network.
public struct SwarmAllocation: Codable, Sendable, Equatable {
    public var vni: VNI
    public var subnet: IPv4Subnet

    public init(vni: VNI, subnet: IPv4Subnet) {
        self.vni = vni
        self.subnet = subnet
    }
}
