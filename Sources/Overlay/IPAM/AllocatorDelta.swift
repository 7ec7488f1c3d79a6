/// What one update changed in the IPAM state, pool by pool and address by address, for the state journal:
/// allocating one address records that address, not the pool's thousand others.
struct AllocatorDelta: Codable, Sendable, Equatable {
    /// A pool present before and after whose counters or addresses changed.
    struct PoolChange<Address: Hashable & Codable & Sendable>: Codable, Sendable, Equatable {
        var references: Int
        var lastAllocated: Address?
        var addresses: KeyedDelta<Address, AddressAllocation>?
    }

    var addedPools: [PoolID: PoolState] = [:]
    var changedPools: [PoolID: PoolChange<IPv4Address>] = [:]
    var addedPools6: [PoolID: IPv6PoolState] = [:]
    var changedPools6: [PoolID: PoolChange<IPv6Address>] = [:]
    var removedPools: [PoolID] = []

    /// The delta that turns `old` into `new`, or nil when they are equal.
    init?(from old: AllocatorState, to new: AllocatorState) {
        if old == new { return nil }
        for (id, pool) in new.pools where old.pools[id] != pool {
            if let before = old.pools[id], before.subnet == pool.subnet, before.range == pool.range {
                changedPools[id] = PoolChange(references: pool.references, lastAllocated: pool.lastAllocated,
                                              addresses: KeyedDelta(from: before.addresses, to: pool.addresses))
            } else {
                addedPools[id] = pool
            }
        }
        for (id, pool) in new.pools6 where old.pools6[id] != pool {
            if let before = old.pools6[id], before.subnet == pool.subnet, before.blockPrefixLength == pool.blockPrefixLength {
                changedPools6[id] = PoolChange(references: pool.references, lastAllocated: pool.lastAllocated,
                                               addresses: KeyedDelta(from: before.addresses, to: pool.addresses))
            } else {
                addedPools6[id] = pool
            }
        }
        removedPools = old.pools.keys.filter { new.pools[$0] == nil } + old.pools6.keys.filter { new.pools6[$0] == nil }
    }

    func apply(to state: inout AllocatorState) {
        for id in removedPools {
            state.pools[id] = nil
            state.pools6[id] = nil
        }
        for (id, pool) in addedPools { state.pools[id] = pool }
        for (id, pool) in addedPools6 { state.pools6[id] = pool }
        for (id, change) in changedPools where state.pools[id] != nil {
            state.pools[id]!.references = change.references
            state.pools[id]!.lastAllocated = change.lastAllocated
            change.addresses?.apply(to: &state.pools[id]!.addresses)
        }
        for (id, change) in changedPools6 where state.pools6[id] != nil {
            state.pools6[id]!.references = change.references
            state.pools6[id]!.lastAllocated = change.lastAllocated
            change.addresses?.apply(to: &state.pools6[id]!.addresses)
        }
    }
}
