import Logging

/// Cluster-wide IPAM: every pool is cut into blocks, a host claims blocks through the replicated claims table
/// and hands out addresses only from blocks it owns, so addresses are unique across hosts without a central
/// allocator and without a round trip per container.
///
/// - A block is claimed when the host has no free address left in its blocks. It starts looking at a block
///   picked from a hash of its name (so hosts rarely reach for the same one) and, after claiming, waits
///   `settle` for concurrent claims to arrive: of two claims on one block the earlier owns it everywhere, and
///   the loser gives its claim up and tries another block. Addresses are allocated only after the wait.
/// - The gateway (the pool's first usable address) is the same on every host and never handed to an endpoint.
/// - An explicit address (`docker run --ip`) is accepted if this host has not allocated it; keeping explicit
///   addresses apart across hosts is the user's choice of addresses.
/// - Blocks of a host that failed are released when the cluster forgets it (after the grace period).
public actor ClusterAddressAllocator: AddressAllocator {
    public let configuration: AllocatorConfiguration
    let store: StateStore
    let cluster: ClusterState
    let settle: Duration
    let logger: Logger
    /// Addresses per block (fewer for pools smaller than a block).
    public let blockSize: Int
    /// The block size every host uses unless told otherwise; claims are checked against it.
    public static let standardBlockSize = 16

    public init(
        configuration: AllocatorConfiguration = .standard, store: StateStore, cluster: ClusterState,
        blockSize: Int = standardBlockSize, settle: Duration = .milliseconds(800), logger: Logger
    ) {
        self.configuration = configuration
        self.store = store
        self.cluster = cluster
        self.blockSize = blockSize
        self.settle = settle
        self.logger = logger
    }

    /// Claims again the blocks this host held before a restart.
    public func start() async {
        for (subnetText, blocks) in store.current.claimedBlocks {
            guard let subnet = try? IPSubnet(parsing: subnetText) else { continue }
            for block in blocks { _ = await cluster.claim(BlockClaim(subnet: subnet, block: block, host: cluster.node)) }
        }
    }

    public func requestPool(_ request: PoolRequest) throws(IPAMError) -> AllocatedPool {
        let configuration = configuration
        return try change { (state: AllocatorState) throws(IPAMError) in
            try state.planPoolRequest(request, configuration: configuration)
        }
    }

    public func releasePool(_ id: PoolID) async throws(IPAMError) {
        if store.current.ipam.pools6[id] != nil { return try await releasePool6(id) }
        let subnet = store.current.ipam.pools[id]?.subnet
        let released = try change { (state: PersistentState) -> (result: [Int], delta: StateDelta?) in
            let pools = state.ipam.planPoolRelease(id)
            let removed = pools?.removedPools.contains(id) ?? false
            guard let subnet, !state.ipam.pools.contains(where: { $0.value.subnet == subnet && !($0.key == id && removed) }) else {
                return ([], .ipam(pools))
            }
            return Self.releasingBlocks(of: subnet.description, in: state, with: pools)
        }
        if let subnet {
            for block in released { await cluster.unclaim(BlockClaim(subnet: subnet, block: block, host: cluster.node)) }
        }
    }

    public func requestAddress(in pool: PoolID, address: IPv4Address?, role: AddressRole) async throws(IPAMError)
        -> AllocatedAddress
    {
        if address != nil || role == .gateway {
            let sharing = configuration.sharesRequestedAddresses
            return try change { (state: AllocatorState) throws(IPAMError) in
                try state.planAddressRequest(in: pool, address: address, role: role, sharing: sharing)
            }
        }
        guard let subnet = store.current.ipam.pools[pool]?.subnet else { throw .unknownPool(pool) }
        let geometry = BlockGeometry(subnet: subnet, blockSize: blockSize)
        return try await allocateInBlocks(of: .v4(subnet), exhausted: .poolExhausted(pool: subnet, range: nil)) {
            (mine: [Int]) throws(IPAMError) -> AllocatedAddress? in
            let blocks = mine.map { geometry.range(of: $0) }.map { IPv4Address($0.lowerBound)...IPv4Address($0.upperBound) }
            do throws(IPAMError) {
                return try change { (state: AllocatorState) throws(IPAMError) in
                    try state.planAddressRequest(in: pool, address: nil, role: .endpoint, within: blocks)
                }
            } catch .poolExhausted {
                return nil
            }
        } claim: { (owners: [Int: String]) async throws(IPAMError) in
            guard let poolState = self.store.current.ipam.pools[pool] else { throw .unknownPool(pool) }
            try await self.claimBlock(of: poolState, geometry: geometry, owners: owners)
        }
    }

    public func releaseAddress(_ address: IPv4Address, in pool: PoolID) throws(IPAMError) {
        try change { (state: AllocatorState) throws(IPAMError) in
            AllocatorChange(result: (), delta: try state.planRelease(address, in: \.pools, id: pool))
        }
    }

    /// Claims the first block no host owns, starting at this host's preferred one, and keeps it if no earlier
    /// claim on it shows up within `settle`.
    private func claimBlock(of pool: PoolState, geometry: BlockGeometry, owners: [Int: String]) async throws(IPAMError) {
        let usable = geometry.blocks(within: pool.range)
        guard !usable.isEmpty else { throw .poolExhausted(pool: pool.subnet, range: pool.range) }
        let start = Int(FNV1a.hash64(cluster.node.utf8) % UInt64(usable.count))  // hosts spread over the blocks
        guard let block = (0..<usable.count).lazy.map({ usable[(start + $0) % usable.count] }).first(where: { owners[$0] == nil })
        else { throw .poolExhausted(pool: pool.subnet, range: pool.range) }
        try await settleClaim(block, of: .v4(pool.subnet), first: "\(IPv4Address(geometry.range(of: block).lowerBound))")
    }

    /// The automatic allocation of both families: `attempt` takes the next free address of this host's blocks
    /// (nil when they are full), and while they are full `claim` claims another block; at most 64 rounds.
    func allocateInBlocks<Allocated>(
        of subnet: IPSubnet, exhausted: IPAMError, attempt: ([Int]) throws(IPAMError) -> Allocated?,
        claim: ([Int: String]) async throws(IPAMError) -> Void
    ) async throws(IPAMError) -> Allocated {
        for _ in 0..<64 {
            let owners = await cluster.blockOwners(pool: subnet)
            let mine = owners.filter { $0.value == cluster.node }.keys.sorted()
            if !mine.isEmpty, let allocated = try attempt(mine) { return allocated }
            try await claim(owners)
        }
        throw exhausted
    }

    /// Claims `block` of `subnet` and keeps it if no earlier claim on it shows up within `settle` (of two claims
    /// on one block the earlier owns it everywhere); a kept block is saved, so a restart claims it again.
    func settleClaim(_ block: Int, of subnet: IPSubnet, first: String) async throws(IPAMError) {
        let claim = BlockClaim(subnet: subnet, block: block, host: cluster.node)
        _ = await cluster.claim(claim)
        try? await Task.sleep(for: settle)
        if await cluster.blockOwners(pool: subnet)[block] == cluster.node {
            let key = subnet.description
            try change { (state: PersistentState) -> (result: Void, delta: StateDelta?) in
                ((), .ipam(nil, claimedBlocks: KeyedDelta(set: [key: state.claimedBlocks[key, default: []] + [block]])))
            }
            EventJournal.shared.record("ipam", subject: "\(subnet)", "claimed block \(block) from \(first)")
            logger.info("claimed an address block", metadata: ["subnet": "\(subnet)", "block": "\(block)", "first": "\(first)"])
        } else {
            await cluster.unclaim(claim)
            EventJournal.shared.record("ipam", subject: "\(subnet)", "lost block \(block) to an earlier claim")
            logger.info("lost a block to an earlier claim", metadata: ["subnet": "\(subnet)", "block": "\(block)"])
        }
    }

    /// Works out a change from the current state and saves it as a delta, so it is on disk before it is
    /// answered and costs the change, not the state's size.
    func change<T>(_ plan: (PersistentState) throws(IPAMError) -> (result: T, delta: StateDelta?)) throws(IPAMError) -> T {
        do {
            return try store.apply { (state: PersistentState) throws(IPAMError) in try plan(state) }
        } catch let error as IPAMError {
            throw error
        } catch {
            throw .persistence("\(error)")
        }
    }

    /// A change to the IPAM state alone.
    func change<T>(_ plan: (AllocatorState) throws(IPAMError) -> AllocatorChange<T>) throws(IPAMError) -> T {
        try change { (state: PersistentState) throws(IPAMError) -> (result: T, delta: StateDelta?) in
            let change = try plan(state.ipam)
            return (change.result, .ipam(change.delta))
        }
    }

    /// The pool change `pools` with this host's claims on the pool subnet `key` given up: the blocks, and the delta.
    static func releasingBlocks(of key: String, in state: PersistentState, with pools: AllocatorDelta?)
        -> (result: [Int], delta: StateDelta?)
    {
        guard let blocks = state.claimedBlocks[key] else { return ([], .ipam(pools)) }
        return (blocks, .ipam(pools, claimedBlocks: KeyedDelta(removed: [key])))
    }

}

/// How a pool is cut into blocks.
struct BlockGeometry {
    let subnet: IPv4Subnet
    let blockSize: Int

    init(subnet: IPv4Subnet, blockSize: Int) {
        self.subnet = subnet
        self.blockSize = Int(min(UInt64(blockSize), subnet.size))
    }

    var count: Int { Int(subnet.size / UInt64(blockSize)) }

    func range(of block: Int) -> ClosedRange<UInt32> {
        let first = subnet.network.value + UInt32(block * blockSize)
        return first...(first + UInt32(blockSize - 1))
    }

    /// The blocks that hold at least one address of `range` (all blocks without one).
    func blocks(within range: IPv4Subnet?) -> [Int] {
        (0..<count).filter { block in
            guard let range else { return true }
            let span = self.range(of: block)
            return span.lowerBound <= range.lastAddress.value && span.upperBound >= range.network.value
        }
    }
}
