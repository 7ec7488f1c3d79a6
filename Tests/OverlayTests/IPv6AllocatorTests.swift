import FoundationEssentials
import Logging
import Overlay
import Testing

private func subnet6(_ text: String) -> IPv6Subnet {
    do { return try IPv6Subnet(parsing: text) } catch { fatalError("test subnet \(text): \(error)") }
}

private func address6(_ text: String) -> IPv6Address {
    do { return try IPv6Address(parsing: text) } catch { fatalError("test address \(text): \(error)") }
}

/// IPv6 pools in the local allocator: explicit subnets only, blocks sized for /64 and larger, the gateway shared,
/// addresses found without listing the subnet.
@Suite("IPv6 IPAM")
struct IPv6AllocatorTests {
    @Test func aSixtyFourGetsSlash112BlocksAndTheGatewayIsTheFirstAddress() async throws {
        let allocator = LocalAddressAllocator()
        let pool = try await allocator.requestPool6(PoolRequest6(subnet: subnet6("fd00:30::/64")))
        #expect(pool.id.rawValue == "weft:fd00:30::/64" && pool.id.isIPv6)
        #expect(pool.blockPrefixLength == 112)
        #expect(pool.gateway == address6("fd00:30::1"))
        #expect(try await allocator.requestAddress6(in: pool.id, address: nil, role: .gateway).cidr == "fd00:30::1/64")
        #expect(try await allocator.requestAddress6(in: pool.id, address: nil, role: .gateway).address == pool.gateway)
        let first = try await allocator.requestAddress6(in: pool.id, address: nil, role: .endpoint)
        let second = try await allocator.requestAddress6(in: pool.id, address: nil, role: .endpoint)
        #expect(first.cidr == "fd00:30::2/64")
        #expect(second.address == address6("fd00:30::3"))
        let again = try await allocator.requestPool6(PoolRequest6(subnet: subnet6("fd00:30::/64")))
        #expect(again.id == pool.id)
    }

    @Test func badInputNamesTheOption() async throws {
        let allocator = LocalAddressAllocator()
        let wide = subnet6("fd00::/48")
        await #expect(throws: IPAMError.ipv6BlockRequired(wide)) { _ = try await allocator.requestPool6(PoolRequest6(subnet: wide)) }
        #expect(IPAMError.ipv6BlockRequired(wide).description.contains("--ipam-opt weft.ipv6-block="))
        #expect(IPAMError.ipv6BlockRequired(wide).description.contains("--subnet fd00::/48"))
        await #expect(throws: IPAMError.invalidIPv6Block(40, pool: wide)) {
            _ = try await allocator.requestPool6(PoolRequest6(subnet: wide, blockPrefixLength: 40))
        }
        await #expect(throws: IPAMError.invalidIPv6Block(120, pool: wide)) {  // 2^72 blocks
            _ = try await allocator.requestPool6(PoolRequest6(subnet: wide, blockPrefixLength: 120))
        }
        let pool = try await allocator.requestPool6(PoolRequest6(subnet: wide, blockPrefixLength: 80))
        #expect(pool.blockPrefixLength == 80)
        let inside = subnet6("fd00:0:0:7::/64")
        await #expect(throws: IPAMError.overlappingIPv6Pool(inside, existing: wide)) {
            _ = try await allocator.requestPool6(PoolRequest6(subnet: inside))
        }
        #expect(IPAMError.overlappingIPv6Pool(inside, existing: wide).description.hasPrefix("--subnet fd00:0:0:7::/64 overlaps"))
        let outside = address6("fd01::5")
        await #expect(throws: IPAMError.addressOutsidePool6(outside, pool: wide)) {
            _ = try await allocator.requestAddress6(in: pool.id, address: outside, role: .endpoint)
        }
        #expect(IPAMError.addressOutsidePool6(outside, pool: wide).description.contains("--ip6"))
        await #expect(throws: IPAMError.addressNotAssignable6(wide.network, pool: wide)) {
            _ = try await allocator.requestAddress6(in: pool.id, address: wide.network, role: .endpoint)
        }
        await #expect(throws: IPAMError.poolTooSmall6(subnet6("fd00:1::/127"))) {
            _ = try await allocator.requestPool6(PoolRequest6(subnet: subnet6("fd00:1::/127")))
        }
    }

    @Test func anExplicitAddressIsHeldOnceAndReleased() async throws {
        let allocator = LocalAddressAllocator()
        let pool = try await allocator.requestPool6(PoolRequest6(subnet: subnet6("fd00:31::/64")))
        let wanted = address6("fd00:31::abcd")
        #expect(try await allocator.requestAddress6(in: pool.id, address: wanted, role: .endpoint).address == wanted)
        await #expect(throws: IPAMError.addressInUse6(wanted, pool: pool.subnet)) {
            _ = try await allocator.requestAddress6(in: pool.id, address: wanted, role: .endpoint)
        }
        try await allocator.releaseAddress6(wanted, in: pool.id)
        try await allocator.releaseAddress6(wanted, in: pool.id)  // Docker may repeat a release
        #expect(try await allocator.requestAddress6(in: pool.id, address: wanted, role: .endpoint).address == wanted)
        try await allocator.releasePool(pool.id)
        #expect(await allocator.snapshot().pools6.isEmpty)
    }

    @Test func aSmallPoolRunsOutAndSaysSo() async throws {
        let allocator = LocalAddressAllocator()
        let small = subnet6("fd00:32::/126")  // ::0 subnet-router, ::1 gateway, ::2 and ::3 for endpoints
        let pool = try await allocator.requestPool6(PoolRequest6(subnet: small))
        let a = try await allocator.requestAddress6(in: pool.id, address: nil, role: .endpoint).address
        let b = try await allocator.requestAddress6(in: pool.id, address: nil, role: .endpoint).address
        #expect(Set([a, b]) == [address6("fd00:32::2"), address6("fd00:32::3")])
        await #expect(throws: IPAMError.poolExhausted6(pool: small)) {
            _ = try await allocator.requestAddress6(in: pool.id, address: nil, role: .endpoint)
        }
        try await allocator.releaseAddress6(a, in: pool.id)
        #expect(try await allocator.requestAddress6(in: pool.id, address: nil, role: .endpoint).address == a)
    }

    /// A /64 has 2^64 addresses: finding the next free one must cost what is taken, not what the pool holds.
    @Test(.timeLimit(.minutes(1))) func findingAnAddressNeverListsTheSubnet() async throws {
        let allocator = LocalAddressAllocator()
        let pool = try await allocator.requestPool6(PoolRequest6(subnet: subnet6("fd00:33::/64")))
        let last = address6("fd00:33::ffff:ffff:ffff:ffff")
        _ = try await allocator.requestAddress6(in: pool.id, address: last, role: .endpoint)
        var seen: Set<IPv6Address> = []
        for _ in 0..<500 { seen.insert(try await allocator.requestAddress6(in: pool.id, address: nil, role: .endpoint).address) }
        #expect(seen.count == 500 && !seen.contains(last) && !seen.contains(pool.gateway))
    }

    @Test func stateFilesWithoutIPv6PoolsStillLoad() throws {
        let old = #"{"formatVersion":1,"pools":{}}"#
        let state = try JSONDecoder().decode(AllocatorState.self, from: Data(old.utf8))
        #expect(state.pools6.isEmpty)
        var changed = state
        _ = try changed.requestPool6(PoolRequest6(subnet: subnet6("fd00:34::/64")))
        let reloaded = try JSONDecoder().decode(AllocatorState.self, from: JSONEncoder().encode(changed))
        #expect(reloaded == changed)
    }
}

/// IPv6 block claims between hosts whose cluster states are wired to each other.
@Suite("IPv6 cluster IPAM")
struct ClusterIPv6AllocatorTests {
    @Test(.timeLimit(.minutes(1))) func hostsAllocatingAtOnceNeverShareAnIPv6Address() async throws {
        let mesh = ClusterAddressAllocatorTests.Mesh()
        var allocators: [ClusterAddressAllocator] = []
        for name in ["host-a", "host-b", "host-c"] { allocators.append(await mesh.host(name).1) }
        let request = PoolRequest6(subnet: subnet6("fd00:40::/64"))
        var ids: [PoolID] = []
        for allocator in allocators {
            let pool = try await allocator.requestPool6(request)
            #expect(try await allocator.requestAddress6(in: pool.id, address: nil, role: .gateway).address == address6("fd00:40::1"))
            ids.append(pool.id)
        }
        let addresses = try await withThrowingTaskGroup(of: [IPv6Address].self) { group in
            for (allocator, id) in zip(allocators, ids) {
                group.addTask {
                    var taken: [IPv6Address] = []
                    for _ in 0..<100 { taken.append(try await allocator.requestAddress6(in: id, address: nil, role: .endpoint).address) }
                    return taken
                }
            }
            return try await group.reduce(into: [IPv6Address]()) { $0 += $1 }
        }
        #expect(addresses.count == 300)
        #expect(Set(addresses).count == 300, "an IPv6 address was handed out twice")
        #expect(!addresses.contains(address6("fd00:40::1")) && !addresses.contains(address6("fd00:40::")))
        // Each host allocates inside /112 blocks it owns, so its addresses share its blocks' first 112 bits.
        let blocks = Set(addresses.map { $0.value >> 16 })
        #expect(blocks.count >= 3)
    }

    @Test func aBlockOwnedElsewhereIsNotUsedAndAFullPoolSaysSo() async throws {
        let mesh = ClusterAddressAllocatorTests.Mesh()
        let (_, a) = await mesh.host("host-a")
        let (_, b) = await mesh.host("host-b")
        let small = subnet6("fd00:41::/124")  // one /124 block when asked for it
        let request = PoolRequest6(subnet: small, blockPrefixLength: 124)
        let poolA = try await a.requestPool6(request)
        let poolB = try await b.requestPool6(request)
        #expect(try await a.requestAddress6(in: poolA.id, address: nil, role: .endpoint).address == address6("fd00:41::2"))
        await #expect(throws: IPAMError.poolExhausted6(pool: small)) {
            _ = try await b.requestAddress6(in: poolB.id, address: nil, role: .endpoint)
        }
    }

    @Test func releasingThePoolGivesItsBlocksUp() async throws {
        let mesh = ClusterAddressAllocatorTests.Mesh()
        let (stateA, a) = await mesh.host("host-a")
        let (stateB, _) = await mesh.host("host-b")
        let pool = try await a.requestPool6(PoolRequest6(subnet: subnet6("fd00:42::/64")))
        _ = try await a.requestAddress6(in: pool.id, address: nil, role: .endpoint)
        #expect(await stateB.blockOwners(pool: .v6(pool.subnet)).values.contains("host-a"))
        try await a.releasePool(pool.id)
        #expect(await stateA.blockOwners(pool: .v6(pool.subnet)).isEmpty)
        #expect(await stateB.blockOwners(pool: .v6(pool.subnet)).isEmpty)
    }
}
