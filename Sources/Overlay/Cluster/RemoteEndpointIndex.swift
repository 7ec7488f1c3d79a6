import Netlink

/// Which endpoint entries hold each address of each network, and which addresses changed since the driver last
/// took them: what lets one remote change be resolved and programmed without reading every endpoint.
///
/// Kept by ``ClusterState`` from the endpoint table's change log. A network whose changes cannot be told
/// address by address (its definitions changed, too many addresses changed, the log overflowed) is marked
/// for a full recomputation instead.
struct RemoteEndpointIndex {
    /// Per network, each address (IPv4 and IPv6) → the keys of the entries with a value that hold it, whoever
    /// owns them (suspended and local ones included: resolving the address decides).
    private(set) var holders: [VNI: [IPAddress: Set<String>]] = [:]
    /// Per network, the IPv4 addresses held by more than one entry, whose winner may depend on block claims.
    private(set) var contested: [VNI: Set<IPv4Address>] = [:]
    private var dirty: [VNI: Set<IPAddress>] = [:]
    private var full: Set<VNI> = []
    /// Above this many changed addresses a network is recomputed in full.
    let dirtyLimit: Int

    init(dirtyLimit: Int = 256) {
        self.dirtyLimit = dirtyLimit
    }

    /// One entry replaced: its old value's addresses lose the key, its new value's gain it; both are marked.
    mutating func record(key: String, old: EndpointAnnouncement?, new: EndpointAnnouncement?) {
        if let old {
            for address in Self.addresses(of: old) { remove(key, from: address, vni: old.vni) }
        }
        if let new {
            for address in Self.addresses(of: new) { add(key, to: address, vni: new.vni) }
        }
    }

    /// The addresses an endpoint's entry holds: its IPv4 address and, on a dual-stack network, its IPv6 one.
    static func addresses(of endpoint: EndpointAnnouncement) -> [IPAddress] {
        [.v4(endpoint.address)] + (endpoint.address6.map { [.v6($0)] } ?? [])
    }

    /// The address's resolution may have changed.
    mutating func mark(_ address: IPAddress, vni: VNI) {
        guard !full.contains(vni) else { return }
        dirty[vni, default: []].insert(address)
        if dirty[vni, default: []].count > dirtyLimit { markFull(vni) }
    }

    /// The network's remote endpoints must be recomputed from the whole table.
    mutating func markFull(_ vni: VNI) {
        full.insert(vni)
        dirty[vni] = nil
    }

    /// Block claims changed: every contested IPv4 address may have another winner.
    mutating func markContested() {
        for (vni, addresses) in contested {
            for address in addresses { mark(.v4(address), vni: vni) }
        }
    }

    /// The addresses changed since the last take, or nil when the network must be recomputed in full; either way
    /// the network starts clean.
    mutating func take(_ vni: VNI) -> Set<IPAddress>? {
        defer { reset(vni) }
        return full.contains(vni) ? nil : dirty[vni] ?? []
    }

    /// The network was recomputed in full: nothing of it is pending.
    mutating func reset(_ vni: VNI) {
        full.remove(vni)
        dirty[vni] = nil
    }

    /// Rebuilds the index from the whole table (after the change log overflowed); every network it held or holds
    /// is marked for a full recomputation.
    mutating func rebuild(from entries: [String: ReplicatedEntry<EndpointAnnouncement>]) {
        let before = Set(holders.keys).union(dirty.keys)
        holders = [:]
        contested = [:]
        for (key, entry) in entries {
            if let value = entry.value { record(key: key, old: nil, new: value) }
        }
        for vni in before.union(holders.keys) { markFull(vni) }
    }

    /// Every network is recomputed in full (a change log of the network or claim table overflowed).
    mutating func markAllFull() {
        for vni in Set(holders.keys).union(dirty.keys) { markFull(vni) }
    }

    private mutating func add(_ key: String, to address: IPAddress, vni: VNI) {
        var keys = holders[vni, default: [:]][address, default: []]
        keys.insert(key)
        holders[vni, default: [:]][address] = keys
        if keys.count > 1, case .v4(let address4) = address { contested[vni, default: []].insert(address4) }
        mark(address, vni: vni)
    }

    private mutating func remove(_ key: String, from address: IPAddress, vni: VNI) {
        guard var keys = holders[vni]?[address] else { return }
        keys.remove(key)
        if keys.isEmpty {
            holders[vni]?[address] = nil
            if holders[vni]?.isEmpty == true { holders[vni] = nil }
        } else {
            holders[vni]?[address] = keys
        }
        if keys.count < 2, case .v4(let address4) = address {
            contested[vni]?.remove(address4)
            if contested[vni]?.isEmpty == true { contested[vni] = nil }
        }
        mark(address, vni: vni)
    }
}
