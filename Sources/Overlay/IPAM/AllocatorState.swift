/// One address held in a pool.
public struct AddressAllocation: Sendable, Equatable, Codable {
    /// What the address is for.
    public var role: AddressRole
    /// How many holders share it: one per network for a gateway; 1 for an endpoint address, except under swarm
    /// (see ``AllocatorConfiguration/sharesRequestedAddresses``).
    public var references: Int
}

/// One pool: its subnet, who references it, and the addresses taken in it.
public struct PoolState: Sendable, Equatable, Codable {
    /// The pool's subnet.
    public let subnet: IPv4Subnet
    /// The part of the subnet automatic allocation draws from (`--ip-range`), if any.
    public let range: IPv4Subnet?
    /// How many pool requests hold this pool.
    public internal(set) var references: Int
    /// The allocated addresses.
    public internal(set) var addresses: [IPv4Address: AddressAllocation]
    /// The last address handed out automatically. The search for a free address starts after it, so an address
    /// that was just released is not reused at once (remote hosts may still hold stale ARP/FDB entries for it).
    public internal(set) var lastAllocated: IPv4Address?

    /// The pool's deterministic gateway: the subnet's first usable address.
    public var gateway: IPv4Address { IPv4Address(subnet.network.value + 1) }

    /// Where automatic allocation draws from: the usable addresses (no network or broadcast address), inside the
    /// `--ip-range` when there is one; nil when the two do not meet or the subnet has no usable address.
    var automaticRange: ClosedRange<IPv4Address>? {
        guard let usable = subnet.usableRange else { return nil }
        guard let range else { return usable }
        let bounds = range.network...range.lastAddress
        return usable.overlaps(bounds) ? usable.clamped(to: bounds) : nil
    }
}

extension PoolState: AddressPool {
    func checkAssignable(_ address: IPv4Address) throws(IPAMError) {
        guard subnet.contains(address) else { throw .addressOutsidePool(address, pool: subnet) }
        guard let usable = subnet.usableRange, usable.contains(address) else {
            throw .addressNotAssignable(address, pool: subnet)
        }
    }

    func checkContains(_ address: IPv4Address) throws(IPAMError) {
        guard subnet.contains(address) else { throw .addressOutsidePool(address, pool: subnet) }
    }

    func inUse(_ address: IPv4Address) -> IPAMError { .addressInUse(address, pool: subnet) }
    static var addedInDelta: WritableKeyPath<AllocatorDelta, [PoolID: PoolState]> { \.addedPools }
    static var changedInDelta: WritableKeyPath<AllocatorDelta, [PoolID: AllocatorDelta.PoolChange<IPv4Address>]> { \.changedPools }
}

/// The complete state of a local allocator: a plain value, so it can be persisted, inspected and tested
/// without the actor around it.
public struct AllocatorState: Sendable, Equatable, Codable {
    /// Bumped when the encoded form changes incompatibly.
    public var formatVersion = 1
    /// The pools, by the ID Docker knows them by.
    public internal(set) var pools: [PoolID: PoolState] = [:]
    /// The IPv6 pools (absent from state files written before IPv6).
    public internal(set) var pools6: [PoolID: IPv6PoolState] = [:]

    public init() {}

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        formatVersion = try container.decode(Int.self, forKey: .formatVersion)
        pools = try container.decode([PoolID: PoolState].self, forKey: .pools)
        pools6 = try container.decodeIfPresent([PoolID: IPv6PoolState].self, forKey: .pools6) ?? [:]
    }

    private enum CodingKeys: String, CodingKey {
        case formatVersion, pools, pools6
    }

    /// See ``AddressAllocator/requestPool(_:)``.
    public mutating func requestPool(_ request: PoolRequest, configuration: AllocatorConfiguration) throws(IPAMError)
        -> AllocatedPool
    {
        try make(planPoolRequest(request, configuration: configuration))
    }

    /// See ``AddressAllocator/releasePool(_:)``.
    public mutating func releasePool(_ id: PoolID) {
        make(AllocatorChange(result: (), delta: planPoolRelease(id)))
    }

    /// See ``AddressAllocator/requestAddress(in:address:role:)``. With `sharing`, a requested endpoint address
    /// already held gains a holder (see ``AllocatorConfiguration/sharesRequestedAddresses``). With `blocks` (the
    /// cluster allocator's), an automatic address comes from those ranges only, and never is the gateway.
    public mutating func requestAddress(
        in id: PoolID, address wanted: IPv4Address?, role: AddressRole, sharing: Bool = false,
        within blocks: [ClosedRange<IPv4Address>]? = nil
    ) throws(IPAMError) -> AllocatedAddress {
        try make(planAddressRequest(in: id, address: wanted, role: role, sharing: sharing, within: blocks))
    }

    /// See ``AddressAllocator/releaseAddress(_:in:)``.
    public mutating func releaseAddress(_ address: IPv4Address, in id: PoolID) throws(IPAMError) {
        make(AllocatorChange(result: (), delta: try planRelease(address, in: \.pools, id: id)))
    }

    /// Applies a change worked out by one of the `plan` functions and returns its answer.
    mutating func make<Answer>(_ change: AllocatorChange<Answer>) -> Answer {
        change.delta?.apply(to: &self)
        return change.result
    }

    /// ``requestPool(_:configuration:)`` worked out without changing the state.
    func planPoolRequest(_ request: PoolRequest, configuration: AllocatorConfiguration) throws(IPAMError)
        -> AllocatorChange<AllocatedPool>
    {
        let subnet: IPv4Subnet
        if let explicit = request.subnet {
            subnet = explicit
        } else if let range = request.range {
            throw .rangeWithoutSubnet(range)
        } else {
            subnet = try nextFreeDefaultSubnet(configuration)
        }
        guard subnet.usableRange != nil else { throw .poolTooSmall(subnet) }
        if let range = request.range, !subnet.contains(range) {
            throw .rangeOutsidePool(range: range, pool: subnet)
        }
        let id = PoolID(subnet: subnet, range: request.range)
        let pool = pools[id] ?? PoolState(subnet: subnet, range: request.range, references: 1, addresses: [:])
        let delta = pools[id] == nil ? AllocatorDelta(adding: id, pool)
            : AllocatorDelta(id, PoolState.self, .init(references: pool.references + 1, lastAllocated: pool.lastAllocated))
        return AllocatorChange(result: AllocatedPool(id: id, subnet: subnet, gateway: pool.gateway), delta: delta)
    }

    /// ``releasePool(_:)`` worked out without changing the state: nil for an unknown pool.
    func planPoolRelease(_ id: PoolID) -> AllocatorDelta? {
        if let pool = pools6[id] { return Self.referenceDropped(pool, id: id) }
        return pools[id].map { Self.referenceDropped($0, id: id) }
    }

    /// The delta that drops one reference to `pool`, and the pool with the last one.
    private static func referenceDropped<Pool: AddressPool>(_ pool: Pool, id: PoolID) -> AllocatorDelta {
        guard pool.references > 1 else { return AllocatorDelta(removing: id) }
        return AllocatorDelta(id, Pool.self, .init(references: pool.references - 1, lastAllocated: pool.lastAllocated))
    }

    /// ``requestAddress(in:address:role:sharing:within:)`` worked out without changing the state.
    func planAddressRequest(
        in id: PoolID, address wanted: IPv4Address?, role: AddressRole, sharing: Bool = false,
        within blocks: [ClosedRange<IPv4Address>]? = nil
    ) throws(IPAMError) -> AllocatorChange<AllocatedAddress> {
        let (address, pool, delta) = try planAllocation(in: \.pools, id: id, wanted: wanted, role: role, sharing: sharing) {
            (pool: PoolState) throws(IPAMError) -> IPv4Address in
            let automatic = pool.automaticRange.map { [$0] } ?? []
            let ranges = blocks.map { blocks in automatic.flatMap { PoolState.clip(blocks, to: $0) } } ?? automatic
            guard let free = pool.nextFree(in: ranges, excluding: blocks == nil ? nil : pool.gateway) else {
                throw .poolExhausted(pool: pool.subnet, range: pool.range)
            }
            return free
        }
        return AllocatorChange(result: AllocatedAddress(address: address, subnet: pool.subnet), delta: delta)
    }

    /// The first subnet of the default range, in address order, that overlaps no existing pool.
    private func nextFreeDefaultSubnet(_ configuration: AllocatorConfiguration) throws(IPAMError) -> IPv4Subnet {
        let range = configuration.defaultRange
        let prefixLength = configuration.defaultPrefixLength
        let step = UInt64(1) << UInt64(32 - prefixLength)
        var start = UInt64(range.network.value)
        let end = start + range.size
        let taken = pools.values.map(\.subnet)
        while start < end {
            if let candidate = try? IPv4Subnet(network: IPv4Address(UInt32(start)), prefixLength: prefixLength),
                !taken.contains(where: { $0.overlaps(candidate) })
            {
                return candidate
            }
            start += step
        }
        throw .defaultRangeExhausted(range: range, prefixLength: prefixLength)
    }
}
