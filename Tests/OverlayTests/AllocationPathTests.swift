@testable import Overlay
import Testing

/// The allocation path both families share (`AllocatorState.allocate`, `AddressPool.nextFree`): the same
/// search and holder rules whether the pool is IPv4 or IPv6.
struct AllocationPathTests {
    @Test("in both families, inside a host's blocks: the next free address after the last, on to the next block, never the gateway, then from the start")
    func blocksAreSearchedAfterTheLastAddress() throws {
        var state = AllocatorState()
        let pool4 = try state.requestPool(PoolRequest(subnet: IPv4Subnet(parsing: "10.1.0.0/24")), configuration: .standard)
        let blocks4 = [IPv4Address(10, 1, 0, 0)...IPv4Address(10, 1, 0, 3), IPv4Address(10, 1, 0, 8)...IPv4Address(10, 1, 0, 11)]
        let first4 = try (0..<3).map { _ in try state.requestAddress(in: pool4.id, address: nil, role: .endpoint, within: blocks4).address }
        // .0 is the network address, .1 the gateway: neither is handed out from a block.
        #expect(first4.map(\.description) == ["10.1.0.2", "10.1.0.3", "10.1.0.8"])
        try state.releaseAddress(IPv4Address(10, 1, 0, 2), in: pool4.id)
        let next4 = try state.requestAddress(in: pool4.id, address: nil, role: .endpoint, within: blocks4).address
        #expect(next4 == IPv4Address(10, 1, 0, 9))

        let subnet6 = try IPv6Subnet(parsing: "fd00:30::/64")
        let pool6 = try state.requestPool6(PoolRequest6(subnet: subnet6))
        let blocks6 = [try IPv6Address(parsing: "fd00:30::")...IPv6Address(parsing: "fd00:30::3"),
                       try IPv6Address(parsing: "fd00:30::10")...IPv6Address(parsing: "fd00:30::13")]
        let first6 = try (0..<3).map { _ in try state.requestAddress6(in: pool6.id, address: nil, role: .endpoint, within: blocks6).address }
        #expect(first6.map(\.description) == ["fd00:30::2", "fd00:30::3", "fd00:30::10"])
        try state.releaseAddress6(IPv6Address(parsing: "fd00:30::2"), in: pool6.id)
        #expect(try state.requestAddress6(in: pool6.id, address: nil, role: .endpoint, within: blocks6).address.description == "fd00:30::11")
        for _ in 0..<2 { _ = try state.requestAddress6(in: pool6.id, address: nil, role: .endpoint, within: blocks6) }
        // The later block is full: the search starts over and finds the released address.
        #expect(try state.requestAddress6(in: pool6.id, address: nil, role: .endpoint, within: blocks6).address.description == "fd00:30::2")
        #expect(throws: IPAMError.poolExhausted6(pool: subnet6)) {
            try state.requestAddress6(in: pool6.id, address: nil, role: .endpoint, within: blocks6)
        }
    }

    @Test("the holder rules are the family's own errors: an endpoint address twice is in use, a gateway gains a holder")
    func holderRulesInBothFamilies() throws {
        var state = AllocatorState()
        let subnet4 = try IPv4Subnet(parsing: "10.1.0.0/24")
        let pool4 = try state.requestPool(PoolRequest(subnet: subnet4), configuration: .standard)
        let taken4 = IPv4Address(10, 1, 0, 7)
        _ = try state.requestAddress(in: pool4.id, address: taken4, role: .endpoint)
        #expect(throws: IPAMError.addressInUse(taken4, pool: subnet4)) {
            try state.requestAddress(in: pool4.id, address: taken4, role: .endpoint)
        }
        let subnet6 = try IPv6Subnet(parsing: "fd00:30::/64")
        let pool6 = try state.requestPool6(PoolRequest6(subnet: subnet6))
        let taken6 = try IPv6Address(parsing: "fd00:30::7")
        _ = try state.requestAddress6(in: pool6.id, address: taken6, role: .endpoint)
        #expect(throws: IPAMError.addressInUse6(taken6, pool: subnet6)) {
            try state.requestAddress6(in: pool6.id, address: taken6, role: .endpoint)
        }
        _ = try state.requestAddress6(in: pool6.id, address: nil, role: .gateway)
        _ = try state.requestAddress6(in: pool6.id, address: nil, role: .gateway)
        #expect(state.pools6[pool6.id]?.addresses[pool6.gateway]?.references == 2)
        try state.releaseAddress6(pool6.gateway, in: pool6.id)
        #expect(state.pools6[pool6.id]?.addresses[pool6.gateway]?.references == 1)
    }
}
