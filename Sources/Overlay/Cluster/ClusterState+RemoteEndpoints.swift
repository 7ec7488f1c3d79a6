import Netlink

/// A network's remote endpoints: resolved in full from the endpoint table, or address by address for what
/// changed since the driver last took them (``RemoteEndpointIndex``). Both paths resolve an address with the
/// same rule, ``winnerEntry(of:vni:among:blockOwners:)``.
extension ClusterState {
    /// One address's remote endpoint as a change pass applies it: nil when the address is not remote any more.
    public struct RemoteEndpointChange: Sendable, Equatable {
        public var endpoint: RemoteEndpoint?
        /// Its owner's write time (the winning entry's version clock, milliseconds), for the convergence lag.
        public var written: UInt64?

        public init(endpoint: RemoteEndpoint?, written: UInt64?) {
            self.endpoint = endpoint
            self.written = written
        }
    }

    /// What changed in a network's remote endpoints since the driver last took them.
    public enum RemoteChanges: Sendable, Equatable {
        /// The changes cannot be told address by address: recompute with ``takeRemoteEndpoints(vni:)``.
        case everything
        /// These addresses' remote endpoints now.
        case addresses([IPAddress: RemoteEndpointChange])
    }

    /// Endpoints of other hosts in a network, as its VXLAN device must know them.
    /// When two endpoints hold the same address (one moved, or was reused, before the old one was withdrawn),
    /// the one on the host that owns the address's IPAM block wins, else the newer entry, the same on every
    /// host (so a host cannot take another host's container address by announcing it later); an address held
    /// by an endpoint of this host is never remote.
    ///
    /// An endpoint's IPv6 address is one more remote entry with the same MAC and VTEP; where two hosts announce
    /// the same IPv6 address, the newer entry wins (IPv6 block owners are not consulted: the block size is the
    /// pool's, which records do not carry).
    public func remoteEndpoints(vni: VNI) -> [RemoteEndpoint] {
        var holders: [IPAddress: [ReplicatedEntry<EndpointAnnouncement>]] = [:]
        for (_, entry) in endpoints.entries {
            guard let endpoint = entry.value, endpoint.vni == vni else { continue }
            for address in RemoteEndpointIndex.addresses(of: endpoint) { holders[address, default: []].append(entry) }
        }
        var blockOwners: [IPv4Subnet: [Int: String]] = [:]
        return holders.keys.sorted().compactMap { address in
            winnerEntry(of: address, vni: vni, among: holders[address] ?? [], blockOwners: &blockOwners)?.value
                .map { RemoteEndpoint(address: address, mac: $0.mac, vtep: $0.vtep) }
        }
    }

    /// ``remoteEndpoints(vni:)``, for the driver's full pass: what changed in the network until now is taken
    /// with it, so the next change pass applies only what comes after.
    public func takeRemoteEndpoints(vni: VNI) -> [RemoteEndpoint] {
        indexTableChanges()
        remoteIndex.reset(vni)
        return remoteEndpoints(vni: vni)
    }

    /// The addresses of a network whose remote endpoint may have changed since the driver last took them, each
    /// resolved as ``remoteEndpoints(vni:)`` would; or ``RemoteChanges/everything`` when only a full
    /// recomputation is safe. Either way the network's changes are taken.
    public func takeRemoteChanges(vni: VNI) -> RemoteChanges {
        indexTableChanges()
        guard let addresses = remoteIndex.take(vni) else { return .everything }
        let holders = remoteIndex.holders[vni] ?? [:]
        var blockOwners: [IPv4Subnet: [Int: String]] = [:]
        var changes: [IPAddress: RemoteEndpointChange] = [:]
        for address in addresses {
            let entries = (holders[address] ?? []).compactMap { endpoints.entries[$0] }
            let entry = winnerEntry(of: address, vni: vni, among: entries, blockOwners: &blockOwners)
            changes[address] = RemoteEndpointChange(
                endpoint: entry?.value.map { RemoteEndpoint(address: address, mac: $0.mac, vtep: $0.vtep) },
                written: entry?.version.clock)
        }
        return .addresses(changes)
    }

    /// The rule both paths share: none when an endpoint of this host holds the address; else, of the entries of
    /// owners not suspended, for an IPv4 address held more than once those on the host that owns its block
    /// (when any), and of them the newest.
    private func winnerEntry(
        of address: IPAddress, vni: VNI, among holders: [ReplicatedEntry<EndpointAnnouncement>],
        blockOwners: inout [IPv4Subnet: [Int: String]]
    ) -> ReplicatedEntry<EndpointAnnouncement>? {
        guard !holders.contains(where: { $0.owner == node }) else { return nil }
        var pool = holders.filter { $0.value != nil && !endpoints.suspendedOwners.contains($0.owner) }
        if pool.count > 1, case .v4(let address4) = address, let subnet = networks.entries.values.lazy.compactMap(\.value)
            .first(where: { $0.vni == vni && $0.subnet.contains(address4) })?.subnet
        {
            if blockOwners[subnet] == nil { blockOwners[subnet] = self.blockOwners(subnet: subnet) }
            let geometry = BlockGeometry(subnet: subnet, blockSize: limits.blockSize)
            let block = Int((address4.value - subnet.network.value) / UInt32(geometry.blockSize))
            if let owner = blockOwners[subnet]?[block] {
                let owners = pool.filter { $0.value?.host == owner }
                if !owners.isEmpty { pool = owners }
            }
        }
        return pool.max { $0.version < $1.version }
    }

    /// Brings the remote-endpoint index up to date with the tables' change logs: endpoint changes mark their
    /// addresses, a network definition's change its whole network, a claim's change the contested addresses.
    func indexTableChanges() {
        if let changes = endpoints.takeChanges() {
            for change in changes { remoteIndex.record(key: change.key, old: change.old?.value, new: change.new?.value) }
        } else {
            remoteIndex.rebuild(from: endpoints.entries)
        }
        if let changes = networks.takeChanges() {
            for vni in Set(changes.compactMap { Self.vni(inKey: $0.key) }) { remoteIndex.markFull(vni) }
        } else {
            remoteIndex.markAllFull()
        }
        if let changes = claims.takeChanges() {
            if !changes.isEmpty { remoteIndex.markContested() }
        } else {
            remoteIndex.markContested()
        }
    }

    /// A host was suspended or restored: each address its endpoints hold may resolve differently.
    func markEndpoints(of owner: String) {
        for entry in endpoints.entries.values where entry.owner == owner {
            guard let endpoint = entry.value else { continue }
            for address in RemoteEndpointIndex.addresses(of: endpoint) { remoteIndex.mark(address, vni: endpoint.vni) }
        }
    }
}
