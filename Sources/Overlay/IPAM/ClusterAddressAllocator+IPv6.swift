import Logging

/// IPv6 pools: the same block claims as IPv4 (the claims table names the pool by its IPv6 subnet), with blocks
/// of `2^(128 − blockPrefixLength)` addresses, searched from the last address handed out and never listed.
extension ClusterAddressAllocator {
    public func requestPool6(_ request: PoolRequest6) throws(IPAMError) -> AllocatedPool6 {
        try change { (state: AllocatorState) throws(IPAMError) in try state.planPoolRequest6(request) }
    }

    /// Drops a reference to the IPv6 pool; with the last one, this host's claims on it are given up.
    func releasePool6(_ id: PoolID) async throws(IPAMError) {
        guard let subnet = store.current.ipam.pools6[id]?.subnet else { return }
        let released = try change { (state: PersistentState) -> (result: [Int], delta: StateDelta?) in
            let pools = state.ipam.planPoolRelease(id)
            guard pools?.removedPools.contains(id) ?? false else { return ([], .ipam(pools)) }
            return Self.releasingBlocks(of: subnet.description, in: state, with: pools)
        }
        for block in released { await cluster.unclaim(BlockClaim(subnet: .v6(subnet), block: block, host: cluster.node)) }
    }

    public func requestAddress6(in pool: PoolID, address: IPv6Address?, role: AddressRole) async throws(IPAMError)
        -> AllocatedAddress6
    {
        if address != nil || role == .gateway {
            let sharing = configuration.sharesRequestedAddresses
            return try change { (state: AllocatorState) throws(IPAMError) in
                try state.planAddressRequest6(in: pool, address: address, role: role, sharing: sharing)
            }
        }
        guard let poolState = store.current.ipam.pools6[pool] else { throw .unknownPool(pool) }
        let geometry = IPv6BlockGeometry(subnet: poolState.subnet, blockPrefixLength: poolState.blockPrefixLength)
        return try await allocateInBlocks(of: .v6(poolState.subnet), exhausted: .poolExhausted6(pool: poolState.subnet)) {
            (mine: [Int]) throws(IPAMError) -> AllocatedAddress6? in
            do throws(IPAMError) {
                return try change { (state: AllocatorState) throws(IPAMError) in
                    try state.planAddressRequest6(in: pool, address: nil, role: .endpoint, within: mine.map(geometry.range(of:)))
                }
            } catch .poolExhausted6 {
                return nil
            }
        } claim: { (owners: [Int: String]) async throws(IPAMError) in
            guard let poolState = self.store.current.ipam.pools6[pool] else { throw .unknownPool(pool) }
            try await self.claimBlock6(of: poolState, geometry: geometry, owners: owners)
        }
    }

    public func releaseAddress6(_ address: IPv6Address, in pool: PoolID) throws(IPAMError) {
        try change { (state: AllocatorState) throws(IPAMError) in
            AllocatorChange(result: (), delta: try state.planRelease(address, in: \.pools6, id: pool))
        }
    }

    /// Claims the first unowned block from this host's preferred one (by hash of its name), and keeps it if no
    /// earlier claim shows up within `settle`. Looks at no more blocks than there are owners, plus one.
    private func claimBlock6(of pool: IPv6PoolState, geometry: IPv6BlockGeometry, owners: [Int: String]) async throws(IPAMError) {
        let count = geometry.count
        let start = FNV1a.hash64(cluster.node.utf8) % count
        let tries = min(count, UInt64(owners.count) + 1)
        guard let block = (0..<tries).lazy.map({ Int((start + $0) % count) }).first(where: { owners[$0] == nil }) else {
            throw .poolExhausted6(pool: pool.subnet)
        }
        try await settleClaim(block, of: .v6(pool.subnet), first: "\(geometry.range(of: block).lowerBound)")
    }
}
