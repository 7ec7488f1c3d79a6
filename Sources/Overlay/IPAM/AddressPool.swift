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
protocol AddressPool {
    associatedtype Address: PoolAddress
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
}

extension AddressPool {
    /// Takes `address` for `role`: a free address gets its first holder; a held gateway gains a holder; a held
    /// endpoint address gains one only when `sharing` and it was asked for explicitly; anything else is in use.
    mutating func hold(_ address: Address, role: AddressRole, explicit: Bool, sharing: Bool) throws(IPAMError) {
        switch (addresses[address], role) {
        case (nil, _):
            addresses[address] = AddressAllocation(role: role, references: 1)
        case (let held?, .gateway) where held.role == .gateway:
            addresses[address]!.references += 1
        case (let held?, .endpoint) where held.role == .endpoint && sharing && explicit:
            addresses[address]!.references += 1
        case (_?, _):
            throw inUse(address)
        }
    }

    /// Drops one holder of `address` (and the address with the last one); a free address is left as it is.
    mutating func release(_ address: Address) throws(IPAMError) {
        try checkContains(address)
        guard let held = addresses[address] else { return }
        if held.references > 1 {
            addresses[address]!.references -= 1
        } else {
            addresses[address] = nil
        }
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
    /// last allocated); then the holder rules of ``AddressPool/hold(_:role:explicit:sharing:)``.
    mutating func allocate<Pool: AddressPool>(
        in pools: WritableKeyPath<AllocatorState, [PoolID: Pool]>, id: PoolID, wanted: Pool.Address?, role: AddressRole,
        sharing: Bool, automatic: (Pool) throws(IPAMError) -> Pool.Address
    ) throws(IPAMError) -> (address: Pool.Address, pool: Pool) {
        guard var pool = self[keyPath: pools][id] else { throw .unknownPool(id) }
        let address: Pool.Address
        if let wanted {
            try pool.checkAssignable(wanted)
            address = wanted
        } else if role == .gateway {
            address = pool.gateway
        } else {
            address = try automatic(pool)
            pool.lastAllocated = address
        }
        try pool.hold(address, role: role, explicit: wanted != nil, sharing: sharing)
        self[keyPath: pools][id] = pool
        return (address, pool)
    }

    /// Frees `address` in the pool (or drops a holder); unknown pools and free addresses succeed.
    mutating func release<Pool: AddressPool>(
        _ address: Pool.Address, in pools: WritableKeyPath<AllocatorState, [PoolID: Pool]>, id: PoolID
    ) throws(IPAMError) {
        guard var pool = self[keyPath: pools][id] else { return }
        try pool.release(address)
        self[keyPath: pools][id] = pool
    }
}
