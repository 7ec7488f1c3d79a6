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

    /// One pool of the family `Pool` changed in its holders, last allocation or addresses: what allocating or
    /// releasing an address, or a pool request on a pool already held, records.
    init<Pool: AddressPool>(_ id: PoolID, _: Pool.Type, _ change: PoolChange<Pool.Address>) {
        self[keyPath: Pool.changedInDelta][id] = change
    }

    /// A new pool.
    init<Pool: AddressPool>(adding id: PoolID, _ pool: Pool) {
        self[keyPath: Pool.addedInDelta][id] = pool
    }

    /// A pool released by its last holder, with all its addresses.
    init(removing id: PoolID) {
        removedPools = [id]
    }

    /// The delta that turns `old` into `new`, or nil when they are equal.
    init?(from old: AllocatorState, to new: AllocatorState) {
        if old == new { return nil }
        (addedPools, changedPools) = Self.difference(from: old.pools, to: new.pools)
        (addedPools6, changedPools6) = Self.difference(from: old.pools6, to: new.pools6)
        removedPools = old.pools.keys.filter { new.pools[$0] == nil } + old.pools6.keys.filter { new.pools6[$0] == nil }
    }

    func apply(to state: inout AllocatorState) {
        for id in removedPools {
            state.pools[id] = nil
            state.pools6[id] = nil
        }
        Self.apply(added: addedPools, changed: changedPools, to: &state.pools)
        Self.apply(added: addedPools6, changed: changedPools6, to: &state.pools6)
    }

    /// The pools of one family that are new or differ: a pool that differs only in what a ``PoolChange``
    /// carries is a change; any other (a new subnet, range or block size under the same ID) is written whole.
    private static func difference<Pool: AddressPool & Equatable>(
        from old: [PoolID: Pool], to new: [PoolID: Pool]
    ) -> (added: [PoolID: Pool], changed: [PoolID: PoolChange<Pool.Address>]) where Pool.Address: Codable {
        var added: [PoolID: Pool] = [:]
        var changed: [PoolID: PoolChange<Pool.Address>] = [:]
        for (id, pool) in new where old[id] != pool {
            if let before = old[id], isChange(from: before, to: pool) {
                changed[id] = PoolChange(references: pool.references, lastAllocated: pool.lastAllocated,
                                         addresses: KeyedDelta(from: before.addresses, to: pool.addresses))
            } else {
                added[id] = pool
            }
        }
        return (added, changed)
    }

    /// Whether `new` is `old` but for its holders, addresses and last allocation: what a ``PoolChange`` carries.
    private static func isChange<Pool: AddressPool & Equatable>(from old: Pool, to new: Pool) -> Bool {
        var carried = old
        carried.references = new.references
        carried.lastAllocated = new.lastAllocated
        carried.addresses = new.addresses
        return carried == new
    }

    private static func apply<Pool: AddressPool>(
        added: [PoolID: Pool], changed: [PoolID: PoolChange<Pool.Address>], to pools: inout [PoolID: Pool]
    ) where Pool.Address: Codable {
        for (id, pool) in added { pools[id] = pool }
        for (id, change) in changed where pools[id] != nil {
            pools[id]!.references = change.references
            pools[id]!.lastAllocated = change.lastAllocated
            change.addresses?.apply(to: &pools[id]!.addresses)
        }
    }
}
