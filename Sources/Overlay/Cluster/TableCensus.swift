import Netlink

/// How many records the cluster tables hold, by owner and by network: what the caps of ``ClusterLimits`` are
/// checked against. A key's owner and network never change (both are part of the key), so a new key adds to
/// the counts and only removals (purges, expired tombstones) need a recount.
struct TableCensus {
    private(set) var total = 0
    private(set) var perOwner: [String: Int] = [:]
    private(set) var endpointsPerVNI: [VNI: Int] = [:]
    private(set) var networkDefinitions: [VNI: Int] = [:]

    mutating func add(_ table: ClusterCodec.Table, owner: String, vni: VNI?) {
        total += 1
        perOwner[owner, default: 0] += 1
        guard let vni else { return }
        switch table {
        case .endpoints: endpointsPerVNI[vni, default: 0] += 1
        case .networks: networkDefinitions[vni, default: 0] += 1
        case .claims: break
        }
    }

    static func counting(
        endpoints: ReplicatedTable<EndpointAnnouncement>, networks: ReplicatedTable<NetworkAnnouncement>,
        claims: ReplicatedTable<BlockClaim>
    ) -> TableCensus {
        var census = TableCensus()
        for (key, entry) in endpoints.entries { census.add(.endpoints, owner: entry.owner, vni: ClusterState.vni(inKey: key)) }
        for (key, entry) in networks.entries { census.add(.networks, owner: entry.owner, vni: ClusterState.vni(inKey: key)) }
        for (_, entry) in claims.entries { census.add(.claims, owner: entry.owner, vni: nil) }
        return census
    }
}
