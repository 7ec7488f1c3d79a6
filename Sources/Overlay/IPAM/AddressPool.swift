/// What the allocation path needs of an address family: a number to step through. ``IPv4Address`` and
/// ``IPv6Address`` conform, so IPv4 and IPv6 pools share one search for a free address and one set of holder rules.
public protocol PoolAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a number (`UInt32` or `UInt128`).
    associatedtype Value: FixedWidthInteger & UnsignedInteger
    var value: Value { get }
    init(_ value: Value)
}

extension IPv4Address: PoolAddress {}
extension IPv6Address: PoolAddress {}

/// A pool of either family as the allocation path and the state journal see it: its holders, the addresses held,
/// the last one handed out, and the family's own checks and errors. ``PoolState`` (IPv4) and ``IPv6PoolState`` conform.
protocol AddressPool: Equatable {
    associatedtype Address: PoolAddress & Codable
    /// How many pool requests hold the pool.
    var references: Int { get set }
    var addresses: [Address: AddressAllocation] { get set }
    var lastAllocated: Address? { get set }
    var gateway: Address { get }
    /// Throws unless `address` may be asked for explicitly (`--ip`, `--gateway`, `--aux-address`).
    func checkAssignable(_ address: Address) throws(IPAMError)
    /// Throws unless `address` lies in the pool.
    func checkContains(_ address: Address) throws(IPAMError)
    /// The error for `address` being held already.
    func inUse(_ address: Address) -> IPAMError
    /// Where a delta of the IPAM state holds the pools of this family that are new, and those that changed.
    static var addedInDelta: WritableKeyPath<AllocatorDelta, [PoolID: Self]> { get }
    static var changedInDelta: WritableKeyPath<AllocatorDelta, [PoolID: AllocatorDelta.PoolChange<Address>]> { get }
}

extension AddressPool {
    /// What `address` becomes when taken for `role`: a free address gets its first holder; a held gateway gains a
    /// holder; a held endpoint address gains one only when `sharing` and it was asked for explicitly; anything else
    /// is in use.
    func holding(_ address: Address, role: AddressRole, explicit: Bool, sharing: Bool) throws(IPAMError) -> AddressAllocation {
        switch (addresses[address], role) {
        case (nil, _):
            return AddressAllocation(role: role, references: 1)
        case (var held?, .gateway) where held.role == .gateway:
            held.references += 1
            return held
        case (var held?, .endpoint) where held.role == .endpoint && sharing && explicit:
            held.references += 1
            return held
        case (_?, _):
            throw inUse(address)
        }
    }

    /// The change to the pool's addresses that drops one holder of `address` (and the address with the last one);
    /// nil for a free address, which is left as it is.
    func releasing(_ address: Address) throws(IPAMError) -> KeyedDelta<Address, AddressAllocation>? {
        try checkContains(address)
        guard var held = addresses[address] else { return nil }
        guard held.references > 1 else { return KeyedDelta(removed: [address]) }
        held.references -= 1
        return KeyedDelta(set: [address: held])
    }

    /// The first free address of `ranges` (ascending, disjoint) after the last one handed out, else the first free
    /// one from the start, never `excluded`: a just released address is not handed out again at once, since
    /// other containers may still have the old endpoint's MAC for it. Steps over at most `taken + 2` addresses
    /// per range, never lists a range (an IPv6 block may hold 2^64).
    func nextFree(in ranges: [ClosedRange<Address>], excluding excluded: Address?) -> Address? {
        if let last = lastAllocated, last.value < Address.Value.max {
            let next = Address(last.value + 1)
            for range in ranges where range.upperBound >= next {
                if let free = firstFree(from: max(range.lowerBound, next), through: range.upperBound, excluding: excluded) {
                    return free
                }
            }
        }
        for range in ranges {
            if let free = firstFree(from: range.lowerBound, through: range.upperBound, excluding: excluded) { return free }
        }
        return nil
    }

    /// The parts of `ranges` inside `bounds`, in order.
    static func clip(_ ranges: [ClosedRange<Address>], to bounds: ClosedRange<Address>) -> [ClosedRange<Address>] {
        ranges.filter { $0.overlaps(bounds) }.map { $0.clamped(to: bounds) }
    }

    private func firstFree(from low: Address, through high: Address, excluding excluded: Address?) -> Address? {
        guard low <= high else { return nil }
        var candidate = low.value
        while true {
            let address = Address(candidate)
            if address != excluded, addresses[address] == nil { return address }
            if candidate == high.value { return nil }
            candidate += 1
        }
    }
}

extension AllocatorState {
    /// The one allocation path of both families: `wanted` when given (checked by the pool), the pool's gateway
    /// for a gateway request without an address, else the address `automatic` finds (which becomes the pool's
    /// last allocated); then the holder rules of ``AddressPool/holding(_:role:explicit:sharing:)``. Reads the
    /// state only: returns the address, the pool and the delta that takes the address.
    func planAllocation<Pool: AddressPool>(
        in pools: KeyPath<AllocatorState, [PoolID: Pool]>, id: PoolID, wanted: Pool.Address?, role: AddressRole,
        sharing: Bool, automatic: (Pool) throws(IPAMError) -> Pool.Address
    ) throws(IPAMError) -> (address: Pool.Address, pool: Pool, delta: AllocatorDelta) {
        guard let pool = self[keyPath: pools][id] else { throw .unknownPool(id) }
        let address: Pool.Address
        var lastAllocated = pool.lastAllocated
        if let wanted {
            try pool.checkAssignable(wanted)
            address = wanted
        } else if role == .gateway {
            address = pool.gateway
        } else {
            address = try automatic(pool)
            lastAllocated = address
        }
        let held = try pool.holding(address, role: role, explicit: wanted != nil, sharing: sharing)
        let change = AllocatorDelta.PoolChange(references: pool.references, lastAllocated: lastAllocated,
                                               addresses: KeyedDelta(set: [address: held]))
        return (address, pool, AllocatorDelta(id, Pool.self, change))
    }

    /// The delta that frees `address` in the pool (or drops a holder); nil for unknown pools and free addresses,
    /// which succeed unchanged.
    func planRelease<Pool: AddressPool>(
        _ address: Pool.Address, in pools: KeyPath<AllocatorState, [PoolID: Pool]>, id: PoolID
    ) throws(IPAMError) -> AllocatorDelta? {
        guard let pool = self[keyPath: pools][id], let addresses = try pool.releasing(address) else { return nil }
        let change = AllocatorDelta.PoolChange(references: pool.references, lastAllocated: pool.lastAllocated, addresses: addresses)
        return AllocatorDelta(id, Pool.self, change)
    }
}
