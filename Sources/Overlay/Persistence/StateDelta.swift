import Netlink

/// What one update changed in the ``PersistentState``: the journal entry the store appends instead of rewriting
/// the whole state, so a change costs the same with 1,000 endpoints as with 10.
///
/// A delta names only what changed: endpoints, IPAM addresses and claimed blocks by key. It carries every field
/// of the state (StateDeltaCoverageTests fails when a field is added to the state and not here), and debug builds
/// check that applying it to the old state gives the new one.
struct StateDelta: Codable, Sendable, Equatable {
    var networks: KeyedDelta<String, NetworkRecord>?
    var endpoints: KeyedDelta<String, EndpointRecord>?
    var ipam: AllocatorDelta?
    var claimedBlocks: KeyedDelta<String, [Int]>?
    var knownPeers: [String]?
    var allocatedNetworks: KeyedDelta<String, SwarmAllocation>?
    /// Set when the swarm address changed.
    var swarmAddress: SwarmAddressChange?

    /// The new swarm address, which may be none (a wrapper, since JSON cannot tell `nil` from "unchanged").
    struct SwarmAddressChange: Codable, Sendable, Equatable {
        var address: IPAddress?
    }

    /// The delta from `old` to `new`, or nil when they are equal.
    init?(from old: PersistentState, to new: PersistentState) {
        networks = KeyedDelta(from: old.networks, to: new.networks)
        endpoints = KeyedDelta(from: old.endpoints, to: new.endpoints)
        ipam = AllocatorDelta(from: old.ipam, to: new.ipam)
        claimedBlocks = KeyedDelta(from: old.claimedBlocks, to: new.claimedBlocks)
        knownPeers = old.knownPeers == new.knownPeers ? nil : new.knownPeers
        allocatedNetworks = KeyedDelta(from: old.allocatedNetworks, to: new.allocatedNetworks)
        swarmAddress = old.swarmAddress == new.swarmAddress ? nil : SwarmAddressChange(address: new.swarmAddress)
        if self == StateDelta() { return nil }
    }

    private init() {}

    /// One endpoint set (`record`) or removed (`nil`): the change CreateEndpoint and DeleteEndpoint make.
    static func endpoint(_ id: String, _ record: EndpointRecord?) -> StateDelta {
        var delta = StateDelta()
        delta.endpoints = record.map { KeyedDelta(set: [id: $0]) } ?? KeyedDelta(removed: [id])
        return delta
    }

    /// An IPAM change: addresses or pools (`ipam`) and this host's claimed blocks; nil when neither changes.
    static func ipam(_ ipam: AllocatorDelta?, claimedBlocks: KeyedDelta<String, [Int]>? = nil) -> StateDelta? {
        guard ipam != nil || claimedBlocks != nil else { return nil }
        var delta = StateDelta()
        delta.ipam = ipam
        delta.claimedBlocks = claimedBlocks
        return delta
    }

    /// Whether the change is to the set of networks, which the slot files must always show as they are (an
    /// operator reading the state directory must not find a network that is gone): such a change is written as
    /// a snapshot, not journalled. Networks change rarely; endpoints and addresses are what churn.
    var changesNetworks: Bool { networks != nil || allocatedNetworks != nil }

    func apply(to state: inout PersistentState) {
        networks?.apply(to: &state.networks)
        endpoints?.apply(to: &state.endpoints)
        ipam?.apply(to: &state.ipam)
        claimedBlocks?.apply(to: &state.claimedBlocks)
        if let knownPeers { state.knownPeers = knownPeers }
        allocatedNetworks?.apply(to: &state.allocatedNetworks)
        if let swarmAddress { state.swarmAddress = swarmAddress.address }
    }
}

extension StateDelta {
    /// Whether applying the delta to `old` gives exactly `new` (false when `new` differs in a field the delta
    /// does not carry). O(size of the state): for checks, not for every write.
    func turns(_ old: PersistentState, into new: PersistentState) -> Bool {
        var replayed = old
        apply(to: &replayed)
        return replayed == new
    }
}
