import Logging
import Overlay
import Synchronization
import Testing
import TestSupport

/// Cluster-wide IPAM on hosts whose cluster states are wired to each other directly (every broadcast delivered
/// at once to every other host), as the gossip layer does with some delay.
struct ClusterAddressAllocatorTests {
    final class Mesh: Sendable {
        let cluster = SimulatedCluster()
        private let count = Mutex(0)

        func host(_ name: String, settle: Duration = .milliseconds(30), store: StateStore = StateStore(inMemory: PersistentState()))
            async -> (ClusterState, ClusterAddressAllocator)
        {
            let index = count.withLock { count in
                count += 1
                return count
            }
            let state = await cluster.add(SimulatedHost(name, vtep: "192.0.2.\(index)"))
            let allocator = ClusterAddressAllocator(store: store, cluster: state, settle: settle, logger: Logger(label: "test"))
            return (state, allocator)
        }
    }

    @Test func hostsAllocatingAtOnceNeverShareAnAddress() async throws {
        let mesh = Mesh()
        var allocators: [ClusterAddressAllocator] = []
        for name in ["host-a", "host-b", "host-c"] { allocators.append(await mesh.host(name).1) }
        let pool = PoolRequest(subnet: subnet("10.70.0.0/24"))
        var poolIDs: [PoolID] = []
        for allocator in allocators {
            let allocated = try await allocator.requestPool(pool)
            #expect(try await allocator.requestAddress(in: allocated.id, address: nil, role: .gateway).address == address("10.70.0.1"))
            poolIDs.append(allocated.id)
        }
        let addresses = try await withThrowingTaskGroup(of: [IPv4Address].self) { group in
            for (allocator, id) in zip(allocators, poolIDs) {
                group.addTask {
                    var taken: [IPv4Address] = []
                    for _ in 0..<40 { taken.append(try await allocator.requestAddress(in: id, address: nil, role: .endpoint).address) }
                    return taken
                }
            }
            return try await group.reduce(into: [IPv4Address]()) { $0 += $1 }
        }
        #expect(addresses.count == 120)
        #expect(Set(addresses).count == 120, "an address was handed out twice")
        #expect(!addresses.contains(address("10.70.0.1")) && !addresses.contains(address("10.70.0.0")) && !addresses.contains(address("10.70.0.255")))
    }

    @Test func aBlockOwnedElsewhereIsNotUsedAndAFullPoolSaysSo() async throws {
        let mesh = Mesh()
        let (_, a) = await mesh.host("host-a")
        let (_, b) = await mesh.host("host-b")
        let pool = PoolRequest(subnet: subnet("10.71.0.0/28"))  // one block of 16
        let poolA = try await a.requestPool(pool)
        let poolB = try await b.requestPool(pool)
        let first = try await a.requestAddress(in: poolA.id, address: nil, role: .endpoint)
        #expect(first.address == address("10.71.0.2"))
        await #expect(throws: IPAMError.poolExhausted(pool: subnet("10.71.0.0/28"), range: nil)) {
            _ = try await b.requestAddress(in: poolB.id, address: nil, role: .endpoint)
        }
    }

    /// A restarted container must not get back the address it just released under a new MAC: peers would
    /// still have the old MAC for it in their ARP caches.
    @Test func aReleasedAddressIsNotHandedOutAgainAtOnce() async throws {
        let (_, allocator) = await Mesh().host("host-a")
        let pool = try await allocator.requestPool(PoolRequest(subnet: subnet("10.74.0.0/24")))
        let first = try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint).address
        let second = try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint).address
        try await allocator.releaseAddress(second, in: pool.id)
        let third = try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint).address
        #expect(third != second && third != first)
    }

    @Test func theEarlierOfTwoClaimsOwnsTheBlockEverywhere() async {
        let mesh = Mesh()
        let (a, _) = await mesh.host("host-a")
        let (b, _) = await mesh.host("host-b")
        let (c, _) = await mesh.host("host-c")
        let block = subnet("10.72.0.0/24")
        _ = await b.claim(BlockClaim(subnet: block, block: 3, host: "host-b"))
        _ = await a.claim(BlockClaim(subnet: block, block: 3, host: "host-a"))
        for state in [a, b, c] {
            #expect(await state.blockOwners(subnet: block)[3] == "host-b")
        }
    }

    @Test func claimedBlocksAreClaimedAgainAfterARestart() async throws {
        let store = StateStore(inMemory: PersistentState())
        let mesh = Mesh()
        let (_, first) = await mesh.host("host-a", store: store)
        let pool = try await first.requestPool(PoolRequest(subnet: subnet("10.73.0.0/24")))
        _ = try await first.requestAddress(in: pool.id, address: nil, role: .endpoint)
        let blocks = try #require(store.current.claimedBlocks["10.73.0.0/24"])
        #expect(blocks.count == 1)

        // A new process with the same state, in a cluster that has forgotten host-a's claims.
        let fresh = Mesh()
        let (observer, _) = await fresh.host("host-b")
        let (_, restarted) = await fresh.host("host-a", store: store)
        await restarted.start()
        #expect(await observer.blockOwners(subnet: subnet("10.73.0.0/24"))[blocks[0]] == "host-a")
    }

    @Test("claims, addresses and a released pool are saved as deltas and reload; the pool's claims go with it")
    func savedOnDiskAsDeltas() async throws {
        try await withTemporaryDirectory { directory in
            let store = try StateStore(directory: directory, journalLimit: 5)
            let (_, allocator) = await Mesh().host("host-a", store: store)
            let pool = try await allocator.requestPool(PoolRequest(subnet: subnet("10.74.0.0/24")))
            let shared = try await allocator.requestPool(PoolRequest(subnet: subnet("10.74.0.0/24")))
            #expect(shared.id == pool.id)
            var taken: [IPv4Address] = []
            for _ in 0..<20 { taken.append(try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint).address) }
            #expect(Set(taken).count == 20)
            try await allocator.releaseAddress(taken[3], in: pool.id)
            #expect(store.current.claimedBlocks["10.74.0.0/24"]?.count == 2)
            #expect(try StateStore(directory: directory, readOnly: true).current == store.current)

            try await allocator.releasePool(pool.id)
            #expect(store.current.claimedBlocks["10.74.0.0/24"]?.count == 2, "the pool still has a holder")
            try await allocator.releasePool(pool.id)
            #expect(store.current.claimedBlocks.isEmpty && store.current.ipam.pools.isEmpty)
            #expect(try StateStore(directory: directory, readOnly: true).current == store.current)
        }
    }
}
