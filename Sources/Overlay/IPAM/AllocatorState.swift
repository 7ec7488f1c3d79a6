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
        if pools[id] != nil {
            pools[id]!.references += 1
        } else {
            pools[id] = PoolState(subnet: subnet, range: request.range, references: 1, addresses: [:])
        }
        return AllocatedPool(id: id, subnet: subnet, gateway: pools[id]!.gateway)
    }

    /// See ``AddressAllocator/releasePool(_:)``.
    public mutating func releasePool(_ id: PoolID) {
        if let pool = pools6[id] {
            if pool.references > 1 { pools6[id]!.references -= 1 } else { pools6[id] = nil }
            return
        }
        guard let pool = pools[id] else { return }
        if pool.references > 1 {
            pools[id]!.references -= 1
        } else {
            pools[id] = nil
        }
    }

    /// See ``AddressAllocator/requestAddress(in:address:role:)``. With `sharing`, a requested endpoint address
    /// already held gains a holder (see ``AllocatorConfiguration/sharesRequestedAddresses``).
    public mutating func requestAddress(
        in id: PoolID, address wanted: IPv4Address?, role: AddressRole, sharing: Bool = false
    ) throws(IPAMError) -> AllocatedAddress {
        guard var pool = pools[id] else { throw .unknownPool(id) }
        defer { pools[id] = pool }
        let subnet = pool.subnet
        let address: IPv4Address
        if let wanted {
            guard subnet.contains(wanted) else { throw .addressOutsidePool(wanted, pool: subnet) }
            guard let usable = subnet.usableRange, usable.contains(wanted) else {
                throw .addressNotAssignable(wanted, pool: subnet)
            }
            address = wanted
        } else if role == .gateway {
            address = pool.gateway
        } else {
            address = try Self.nextFreeAddress(in: pool)
            pool.lastAllocated = address
        }
        switch (pool.addresses[address], role) {
        case (nil, _):
            pool.addresses[address] = AddressAllocation(role: role, references: 1)
        case (let held?, .gateway) where held.role == .gateway:
            pool.addresses[address]!.references += 1
        case (let held?, .endpoint) where held.role == .endpoint && sharing && wanted != nil:
            pool.addresses[address]!.references += 1
        case (_?, _):
            throw .addressInUse(address, pool: subnet)
        }
        return AllocatedAddress(address: address, subnet: subnet)
    }

    /// See ``AddressAllocator/releaseAddress(_:in:)``.
    public mutating func releaseAddress(_ address: IPv4Address, in id: PoolID) throws(IPAMError) {
        guard let pool = pools[id] else { return }
        guard pool.subnet.contains(address) else { throw .addressOutsidePool(address, pool: pool.subnet) }
        guard let held = pool.addresses[address] else { return }
        if held.references > 1 {
            pools[id]!.addresses[address]!.references -= 1
        } else {
            pools[id]!.addresses[address] = nil
        }
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

    /// The first free address after the pool's last automatic allocation, wrapping around once, inside the
    /// pool's `--ip-range` when it has one. Network and broadcast addresses are never returned.
    private static func nextFreeAddress(in pool: PoolState) throws(IPAMError) -> IPv4Address {
        guard let usable = pool.subnet.usableRange else { throw .poolExhausted(pool: pool.subnet, range: pool.range) }
        var low = usable.lowerBound.value
        var high = usable.upperBound.value
        if let range = pool.range {
            low = max(low, range.network.value)
            high = min(high, range.lastAddress.value)
        }
        guard low <= high else { throw .poolExhausted(pool: pool.subnet, range: pool.range) }
        var start = low
        if let last = pool.lastAllocated?.value, last >= low, last < high {
            start = last + 1
        }
        for value in start...high where pool.addresses[IPv4Address(value)] == nil {
            return IPv4Address(value)
        }
        if start > low {
            for value in low...(start - 1) where pool.addresses[IPv4Address(value)] == nil {
                return IPv4Address(value)
            }
        }
        throw .poolExhausted(pool: pool.subnet, range: pool.range)
    }
}
