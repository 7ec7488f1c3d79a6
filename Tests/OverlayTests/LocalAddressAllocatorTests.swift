import FoundationEssentials
import Overlay
import Testing
import TestSupport

@Suite("LocalAddressAllocator")
struct LocalAddressAllocatorTests {
    let local = LocalAddressAllocator()
    /// The tests go through the protocol the cluster-wide allocator will implement too.
    var allocator: any AddressAllocator { local }

    // MARK: pools

    @Test func explicitSubnetGetsAStableIDAndTheFirstUsableAddressAsGateway() async throws {
        let pool = try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/24")))
        #expect(pool.id == PoolID(rawValue: "weft:10.1.0.0/24"))
        #expect(pool.subnet == subnet("10.1.0.0/24"))
        #expect(pool.gateway == address("10.1.0.1"))
    }

    @Test func poolsWithoutSubnetTakeTheNextFree24OfTheDefaultRange() async throws {
        let first = try await allocator.requestPool(PoolRequest())
        let second = try await allocator.requestPool(PoolRequest())
        #expect(first.subnet == subnet("10.200.0.0/24"))
        #expect(second.subnet == subnet("10.200.1.0/24"))
        // An explicit pool inside the range is skipped by later automatic choices.
        _ = try await allocator.requestPool(PoolRequest(subnet: subnet("10.200.2.0/23")))
        #expect(try await allocator.requestPool(PoolRequest()).subnet == subnet("10.200.4.0/24"))
        // A released subnet is the first free one again.
        try await allocator.releasePool(first.id)
        #expect(try await allocator.requestPool(PoolRequest()).subnet == subnet("10.200.0.0/24"))
    }

    @Test func theDefaultRangeIsConfigurableAndRunsOut() async throws {
        let small = LocalAddressAllocator(
            configuration: try AllocatorConfiguration(defaultRange: subnet("192.0.2.0/24"), defaultPrefixLength: 25))
        #expect(try await small.requestPool(PoolRequest()).subnet == subnet("192.0.2.0/25"))
        #expect(try await small.requestPool(PoolRequest()).subnet == subnet("192.0.2.128/25"))
        await #expect(throws: IPAMError.defaultRangeExhausted(range: subnet("192.0.2.0/24"), prefixLength: 25)) {
            try await small.requestPool(PoolRequest())
        }
        #expect(
            IPAMError.defaultRangeExhausted(range: subnet("192.0.2.0/24"), prefixLength: 25).description
                == "no free /25 left in the default range 192.0.2.0/24; pass --subnet to choose one")
    }

    @Test func invalidConfigurationsAreRefused() {
        #expect(throws: IPAMError.self) {
            try AllocatorConfiguration(defaultRange: subnet("10.0.0.0/24"), defaultPrefixLength: 16)
        }
        #expect(throws: IPAMError.self) {
            try AllocatorConfiguration(defaultRange: subnet("10.0.0.0/24"), defaultPrefixLength: 31)
        }
    }

    @Test func theSameSubnetTwiceIsOnePoolThatNeedsTwoReleases() async throws {
        let first = try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/24")))
        let second = try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/24")))
        #expect(first.id == second.id)
        #expect(await local.snapshot().pools[first.id]?.references == 2)
        try await allocator.releasePool(first.id)
        _ = try await allocator.requestAddress(in: first.id, address: nil, role: .endpoint)
        try await allocator.releasePool(first.id)
        await #expect(throws: IPAMError.unknownPool(first.id)) {
            try await allocator.requestAddress(in: first.id, address: nil, role: .endpoint)
        }
    }

    @Test func releasingAnUnknownPoolSucceedsBecauseDockerMayRetry() async throws {
        try await allocator.releasePool(PoolID(rawValue: "weft:10.9.0.0/24"))
        let pool = try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/24")))
        try await allocator.releasePool(pool.id)
        try await allocator.releasePool(pool.id)
        #expect(await local.snapshot().pools.isEmpty)
    }

    @Test func tooSmallSubnetsAreRefused() async {
        await #expect(throws: IPAMError.poolTooSmall(subnet("10.1.0.0/31"))) {
            try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/31")))
        }
    }

    @Test func ipRangeMustBeInsideTheSubnetAndNeedsOne() async {
        await #expect(throws: IPAMError.rangeOutsidePool(range: subnet("10.2.0.0/25"), pool: subnet("10.1.0.0/24"))) {
            try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/24"), range: subnet("10.2.0.0/25")))
        }
        await #expect(throws: IPAMError.rangeWithoutSubnet(subnet("10.1.0.0/25"))) {
            try await allocator.requestPool(PoolRequest(range: subnet("10.1.0.0/25")))
        }
    }

    // MARK: addresses

    @Test func anyAddressIsTheNextFreeOneAndCarriesThePrefix() async throws {
        let pool = try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/24")))
        let gateway = try await allocator.requestAddress(in: pool.id, address: nil, role: .gateway)
        #expect(gateway.cidr == "10.1.0.1/24")
        let first = try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint)
        let second = try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint)
        #expect(first.cidr == "10.1.0.2/24")
        #expect(second.cidr == "10.1.0.3/24")
    }

    @Test func aGivenAddressIsAllocatedOnceOnly() async throws {
        let pool = try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/24")))
        let wanted = address("10.1.0.42")
        #expect(try await allocator.requestAddress(in: pool.id, address: wanted, role: .endpoint).address == wanted)
        await #expect(throws: IPAMError.addressInUse(wanted, pool: pool.subnet)) {
            try await allocator.requestAddress(in: pool.id, address: wanted, role: .endpoint)
        }
        #expect(
            IPAMError.addressInUse(wanted, pool: pool.subnet).description
                == "address 10.1.0.42 in pool 10.1.0.0/24 is already taken")
    }

    @Test("under swarm a requested address already held gains a holder, and is free only after every release")
    func swarmSharesRequestedAddresses() async throws {
        let swarm = LocalAddressAllocator(configuration: try AllocatorConfiguration(sharesRequestedAddresses: true))
        let pool = try await swarm.requestPool(PoolRequest(subnet: subnet("10.1.0.0/29")))
        // Swarm's allocator on the manager asks for any address; the task starting there asks for that one.
        let picked = try await swarm.requestAddress(in: pool.id, address: nil, role: .endpoint).address
        #expect(try await swarm.requestAddress(in: pool.id, address: picked, role: .endpoint).address == picked)
        try await swarm.releaseAddress(picked, in: pool.id)
        var others: [IPv4Address] = []
        while let next = try? await swarm.requestAddress(in: pool.id, address: nil, role: .endpoint) { others.append(next.address) }
        #expect(!others.contains(picked), "\(picked) was handed out again while a holder remained")
        try await swarm.releaseAddress(picked, in: pool.id)
        #expect(try await swarm.requestAddress(in: pool.id, address: nil, role: .endpoint).address == picked)
        // Still no endpoint address becomes the gateway.
        await #expect(throws: IPAMError.addressInUse(picked, pool: pool.subnet)) {
            try await swarm.requestAddress(in: pool.id, address: picked, role: .gateway)
        }
    }

    @Test func addressesOutsideThePoolOrReservedAreRefused() async throws {
        let pool = try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/24")))
        await #expect(throws: IPAMError.addressOutsidePool(address("10.2.0.5"), pool: pool.subnet)) {
            try await allocator.requestAddress(in: pool.id, address: address("10.2.0.5"), role: .endpoint)
        }
        #expect(
            IPAMError.addressOutsidePool(address("10.2.0.5"), pool: pool.subnet).description
                == "address 10.2.0.5 is outside pool 10.1.0.0/24")
        await #expect(throws: IPAMError.addressNotAssignable(address("10.1.0.0"), pool: pool.subnet)) {
            try await allocator.requestAddress(in: pool.id, address: address("10.1.0.0"), role: .endpoint)
        }
        await #expect(throws: IPAMError.addressNotAssignable(address("10.1.0.255"), pool: pool.subnet)) {
            try await allocator.requestAddress(in: pool.id, address: address("10.1.0.255"), role: .endpoint)
        }
        #expect(
            IPAMError.addressNotAssignable(address("10.1.0.255"), pool: pool.subnet).description
                .contains("broadcast address of pool 10.1.0.0/24"))
    }

    @Test func anExhaustedPoolSaysSo() async throws {
        let pool = try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/29")))
        var handedOut: [String] = []
        for _ in 0..<6 {
            handedOut.append(try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint).cidr)
        }
        #expect(handedOut == (1...6).map { "10.1.0.\($0)/29" })
        let error = await #expect(throws: IPAMError.self) {
            try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint)
        }
        #expect(error?.description == "pool 10.1.0.0/29 has no free address")
    }

    @Test func unknownPoolIDsAreRefused() async {
        let id = PoolID(rawValue: "nonsense")
        await #expect(throws: IPAMError.unknownPool(id)) {
            try await allocator.requestAddress(in: id, address: nil, role: .endpoint)
        }
        #expect(IPAMError.unknownPool(id).description.contains("\"nonsense\""))
    }

    @Test func theGatewayIsSharedAndReferenceCounted() async throws {
        let pool = try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/24")))
        let first = try await allocator.requestAddress(in: pool.id, address: nil, role: .gateway)
        let again = try await allocator.requestAddress(in: pool.id, address: address("10.1.0.1"), role: .gateway)
        #expect(first == again)
        try await allocator.releaseAddress(first.address, in: pool.id)
        // Still held once: an endpoint cannot take it.
        await #expect(throws: IPAMError.addressInUse(first.address, pool: pool.subnet)) {
            try await allocator.requestAddress(in: pool.id, address: first.address, role: .endpoint)
        }
        try await allocator.releaseAddress(first.address, in: pool.id)
        #expect(try await allocator.requestAddress(in: pool.id, address: first.address, role: .endpoint) == first)
    }

    @Test func aUserGatewayIsHonouredAndAnEndpointAddressCannotBecomeTheGateway() async throws {
        let pool = try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/24")))
        let custom = try await allocator.requestAddress(in: pool.id, address: address("10.1.0.254"), role: .gateway)
        #expect(custom.cidr == "10.1.0.254/24")
        _ = try await allocator.requestAddress(in: pool.id, address: address("10.1.0.1"), role: .endpoint)
        await #expect(throws: IPAMError.addressInUse(address("10.1.0.1"), pool: pool.subnet)) {
            try await allocator.requestAddress(in: pool.id, address: nil, role: .gateway)
        }
    }

    @Test func releasedAddressesAreNotReusedAtOnce() async throws {
        let pool = try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/29")))
        let first = try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint)
        try await allocator.releaseAddress(first.address, in: pool.id)
        let next = try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint)
        #expect(next.address == address("10.1.0.2"))
        // After the end of the pool the search wraps around to the released address.
        for _ in 0..<4 {
            _ = try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint)
        }
        #expect(try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint).address == first.address)
    }

    @Test func releasesAreIdempotentButChecked() async throws {
        let pool = try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/24")))
        let held = try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint)
        try await allocator.releaseAddress(held.address, in: pool.id)
        try await allocator.releaseAddress(held.address, in: pool.id)
        try await allocator.releaseAddress(held.address, in: PoolID(rawValue: "weft:10.9.0.0/24"))
        await #expect(throws: IPAMError.addressOutsidePool(address("10.2.0.1"), pool: pool.subnet)) {
            try await allocator.releaseAddress(address("10.2.0.1"), in: pool.id)
        }
        #expect(await local.snapshot().pools[pool.id]?.addresses.isEmpty == true)
    }

    @Test func anIPRangeLimitsAutomaticAllocationOnly() async throws {
        let pool = try await allocator.requestPool(
            PoolRequest(subnet: subnet("10.1.0.0/24"), range: subnet("10.1.0.128/30")))
        #expect(pool.id.rawValue == "weft:10.1.0.0/24:10.1.0.128/30")
        #expect(try await allocator.requestAddress(in: pool.id, address: nil, role: .gateway).cidr == "10.1.0.1/24")
        var handedOut: [String] = []
        for _ in 0..<4 {
            handedOut.append(try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint).cidr)
        }
        #expect(handedOut == ["10.1.0.128/24", "10.1.0.129/24", "10.1.0.130/24", "10.1.0.131/24"])
        let error = await #expect(throws: IPAMError.self) {
            try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint)
        }
        #expect(error?.description == "address range 10.1.0.128/30 of pool 10.1.0.0/24 has no free address")
        #expect(try await allocator.requestAddress(in: pool.id, address: address("10.1.0.9"), role: .endpoint)
            .cidr == "10.1.0.9/24")
    }

    // MARK: state

    @Test func stateRoundTripsThroughJSONAndResumes() async throws {
        let pool = try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/24")))
        _ = try await allocator.requestAddress(in: pool.id, address: nil, role: .gateway)
        _ = try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint)
        let state = await local.snapshot()
        let encoded = try JSONEncoder().encode(state)
        let text = String(decoding: encoded, as: UTF8.self)
        #expect(text.contains("\"weft:10.1.0.0\\/24\"") || text.contains("\"weft:10.1.0.0/24\""))
        #expect(text.contains("\"10.1.0.2\""))
        let decoded = try JSONDecoder().decode(AllocatorState.self, from: encoded)
        #expect(decoded == state)
        let resumed = LocalAddressAllocator(state: decoded)
        #expect(try await resumed.requestAddress(in: pool.id, address: nil, role: .endpoint).cidr == "10.1.0.3/24")
    }

    @Test("an address taken or released on disk is one journal entry of the same size with 1,000 addresses as with 10")
    func addressChangesAreJournalledAtTheirOwnSize() async throws {
        try await withTemporaryDirectory { directory in
            let store = try StateStore(directory: directory, journalLimit: 2000)
            let allocator = LocalAddressAllocator(store: store)
            let pool = try await allocator.requestPool(PoolRequest(subnet: subnet("10.1.0.0/22")))
            let journal = directory + "/journal.log"
            func entrySizes() async throws -> (take: Int, release: Int) {
                let taken = try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint)
                try await allocator.releaseAddress(taken.address, in: pool.id)
                _ = try await allocator.requestAddress(in: pool.id, address: taken.address, role: .endpoint)
                let lines = StateJournalTests().lines(journal).suffix(3)
                #expect(lines.count == 3)
                return (lines.first!.utf8.count, lines.dropFirst().first!.utf8.count)
            }
            for _ in 0..<8 { _ = try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint) }
            let small = try await entrySizes()
            for _ in 0..<990 { _ = try await allocator.requestAddress(in: pool.id, address: nil, role: .endpoint) }
            let large = try await entrySizes()
            #expect(large.take <= small.take + 8 && large.release <= small.release + 8, "small \(small), large \(large)")
            #expect(store.current.ipam.pools[pool.id]?.addresses.count == 1000)
            #expect(try StateStore(directory: directory, readOnly: true).current == store.current)
        }
    }

    @Test func stateWithAMalformedAddressDoesNotDecode() {
        let json = #"{"formatVersion":1,"pools":{"weft:10.1.0.0/24":{"subnet":"10.1.0.0/24","references":1,"#
            + #""addresses":{"10.1.0.999":{"role":"endpoint","references":1}}}}}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AllocatorState.self, from: Data(json.utf8)) }
    }
}
