/// What an IPv6 pool request asks for: weft hands out IPv6 pools only for an explicit `--subnet`.
public struct PoolRequest6: Sendable, Equatable {
    /// The IPv6 subnet the user chose.
    public var subnet: IPv6Subnet
    /// The prefix length of the blocks hosts claim (`--ipam-opt weft.ipv6-block=N`); nil for the default,
    /// which exists only for pools of /64 and longer.
    public var blockPrefixLength: Int?

    /// The `--ipam-opt` key of ``blockPrefixLength``.
    public static let blockOption = "weft.ipv6-block"

    public init(subnet: IPv6Subnet, blockPrefixLength: Int? = nil) {
        self.subnet = subnet
        self.blockPrefixLength = blockPrefixLength
    }

    /// The longest usable pool: /126 leaves room for the subnet-router address, a gateway and two endpoints.
    public static let longestPool = 126
    /// At most 2^48 blocks per pool, so a block's index fits every record and arithmetic on it.
    public static let maxBlockBits = 48

    /// The block prefix every host uses for `subnet` unless told otherwise: /112 blocks (65 536 addresses) in a
    /// /64 up to a /108, sixteen blocks in longer pools; none for pools shorter than /64, where the choice
    /// (how many hosts, how many containers each) is the user's.
    public static func defaultBlockPrefixLength(for subnet: IPv6Subnet) -> Int? {
        guard subnet.prefixLength >= 64 else { return nil }
        return min(max(subnet.prefixLength + 4, 112), longestPool)
    }

    /// The block prefix to use, checked: inside the pool, at most 2^48 blocks.
    func resolvedBlockPrefixLength() throws(IPAMError) -> Int {
        guard subnet.prefixLength <= Self.longestPool else { throw .poolTooSmall6(subnet) }
        guard let block = blockPrefixLength ?? Self.defaultBlockPrefixLength(for: subnet) else {
            throw .ipv6BlockRequired(subnet)
        }
        guard block >= subnet.prefixLength, block <= Self.longestPool, block - subnet.prefixLength <= Self.maxBlockBits else {
            throw .invalidIPv6Block(block, pool: subnet)
        }
        return block
    }
}

/// One IPv6 pool: its subnet, block size, references and the addresses taken in it. Addresses are found by
/// walking from the last one handed out past the taken ones, never by listing the subnet (a /64 has 2^64).
public struct IPv6PoolState: Sendable, Equatable, Codable {
    public let subnet: IPv6Subnet
    /// The prefix length of the blocks hosts claim in this pool.
    public let blockPrefixLength: Int
    public internal(set) var references: Int
    public internal(set) var addresses: [IPv6Address: AddressAllocation]
    /// The last address handed out automatically; the next search starts after it.
    public internal(set) var lastAllocated: IPv6Address?

    /// The gateway: the subnet's first address after the subnet-router anycast address, on every host.
    public var gateway: IPv6Address { IPv6Address(subnet.network.value + 1) }

    /// Every address but the subnet-router anycast address (the network address) is assignable: IPv6 has no
    /// broadcast.
    public var usableRange: ClosedRange<IPv6Address> { gateway...subnet.lastAddress }
}

extension IPv6PoolState: AddressPool {
    func checkAssignable(_ address: IPv6Address) throws(IPAMError) {
        guard subnet.contains(address) else { throw .addressOutsidePool6(address, pool: subnet) }
        guard address != subnet.network else { throw .addressNotAssignable6(address, pool: subnet) }
    }

    func checkContains(_ address: IPv6Address) throws(IPAMError) {
        guard subnet.contains(address) else { throw .addressOutsidePool6(address, pool: subnet) }
    }

    func inUse(_ address: IPv6Address) -> IPAMError { .addressInUse6(address, pool: subnet) }
    static var addedInDelta: WritableKeyPath<AllocatorDelta, [PoolID: IPv6PoolState]> { \.addedPools6 }
    static var changedInDelta: WritableKeyPath<AllocatorDelta, [PoolID: AllocatorDelta.PoolChange<IPv6Address>]> { \.changedPools6 }
}

/// How an IPv6 pool is cut into blocks of `2^(128 − blockPrefixLength)` addresses.
struct IPv6BlockGeometry: Sendable {
    let subnet: IPv6Subnet
    let blockPrefixLength: Int

    /// The number of blocks (at most 2^48).
    var count: UInt64 { UInt64(1) << UInt64(blockPrefixLength - subnet.prefixLength) }

    func range(of block: Int) -> ClosedRange<IPv6Address> {
        let shift = UInt128(128 - blockPrefixLength)
        let first = subnet.network.value | UInt128(block) << shift
        return IPv6Address(first)...IPv6Address(first | (UInt128(1) << shift - 1))
    }

    func block(of address: IPv6Address) -> Int {
        Int(truncatingIfNeeded: (address.value & ~subnet.mask) >> UInt128(128 - blockPrefixLength))
    }
}

extension AllocatorState {
    /// Reserves the IPv6 pool `request.subnet`: the same subnet again takes another reference (and must name
    /// the same block size); a subnet overlapping another IPv6 pool is refused.
    public mutating func requestPool6(_ request: PoolRequest6) throws(IPAMError) -> AllocatedPool6 {
        try make(planPoolRequest6(request))
    }

    /// Allocates `wanted` in the IPv6 pool, or the next free address of `ranges` (the whole pool without them)
    /// after the last one handed out, never the gateway; the gateway role without an address gets the gateway.
    mutating func requestAddress6(
        in id: PoolID, address wanted: IPv6Address?, role: AddressRole, sharing: Bool = false,
        within ranges: [ClosedRange<IPv6Address>]? = nil
    ) throws(IPAMError) -> AllocatedAddress6 {
        try make(planAddressRequest6(in: id, address: wanted, role: role, sharing: sharing, within: ranges))
    }

    /// Frees `address` in the IPv6 pool (or drops a reference); unknown pools and free addresses succeed.
    mutating func releaseAddress6(_ address: IPv6Address, in id: PoolID) throws(IPAMError) {
        make(AllocatorChange(result: (), delta: try planRelease(address, in: \.pools6, id: id)))
    }

    /// ``requestPool6(_:)`` worked out without changing the state.
    func planPoolRequest6(_ request: PoolRequest6) throws(IPAMError) -> AllocatorChange<AllocatedPool6> {
        let block = try request.resolvedBlockPrefixLength()
        let id = PoolID(subnet6: request.subnet)
        let pool: IPv6PoolState
        let delta: AllocatorDelta
        if let existing = pools6[id] {
            guard request.blockPrefixLength == nil || existing.blockPrefixLength == block else {
                throw .ipv6BlockMismatch(request.subnet, existing: existing.blockPrefixLength, requested: block)
            }
            pool = existing
            delta = AllocatorDelta(id, IPv6PoolState.self, .init(references: existing.references + 1, lastAllocated: existing.lastAllocated))
        } else {
            if let other = pools6.values.first(where: { $0.subnet.overlaps(request.subnet) }) {
                throw .overlappingIPv6Pool(request.subnet, existing: other.subnet)
            }
            pool = IPv6PoolState(subnet: request.subnet, blockPrefixLength: block, references: 1, addresses: [:])
            delta = AllocatorDelta(adding: id, pool)
        }
        let allocated = AllocatedPool6(id: id, subnet: pool.subnet, gateway: pool.gateway, blockPrefixLength: pool.blockPrefixLength)
        return AllocatorChange(result: allocated, delta: delta)
    }

    /// ``requestAddress6(in:address:role:sharing:within:)`` worked out without changing the state.
    func planAddressRequest6(
        in id: PoolID, address wanted: IPv6Address?, role: AddressRole, sharing: Bool = false,
        within ranges: [ClosedRange<IPv6Address>]? = nil
    ) throws(IPAMError) -> AllocatorChange<AllocatedAddress6> {
        let (address, pool, delta) = try planAllocation(in: \.pools6, id: id, wanted: wanted, role: role, sharing: sharing) {
            (pool: IPv6PoolState) throws(IPAMError) -> IPv6Address in
            let search = IPv6PoolState.clip(ranges ?? [pool.usableRange], to: pool.usableRange)
            guard let free = pool.nextFree(in: search, excluding: pool.gateway) else { throw .poolExhausted6(pool: pool.subnet) }
            return free
        }
        return AllocatorChange(result: AllocatedAddress6(address: address, subnet: pool.subnet), delta: delta)
    }
}

/// An IPv6 pool handed out by ``AddressAllocator/requestPool6(_:)``.
public struct AllocatedPool6: Sendable, Equatable {
    public var id: PoolID
    public var subnet: IPv6Subnet
    /// The subnet's first address after the network address, the same on every host.
    public var gateway: IPv6Address
    public var blockPrefixLength: Int
}

/// An IPv6 address handed out by ``AddressAllocator/requestAddress6(in:address:role:)``.
public struct AllocatedAddress6: Sendable, Equatable {
    public var address: IPv6Address
    public var subnet: IPv6Subnet

    /// The address with its pool's prefix length, as Docker expects it (`fd00:30::2/64`).
    public var cidr: String { subnet.cidr(for: address) }
}
