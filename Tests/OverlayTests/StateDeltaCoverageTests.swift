import Overlay
import Testing

/// The journal's deltas must carry every field of the persisted state: a field added to the state and not to
/// `StateDelta`/`AllocatorDelta` would be lost on replay. These lists fail the build's tests when that happens.
struct StateDeltaCoverageTests {
    static func fields(_ value: Any) -> Set<String> { Set(Mirror(reflecting: value).children.compactMap(\.label)) }

    @Test("every field of PersistentState is carried by StateDelta")
    func persistentState() {
        #expect(Self.fields(PersistentState()) == [
            "formatVersion", "networks", "endpoints", "ipam", "claimedBlocks", "knownPeers", "allocatedNetworks", "swarmAddress",
        ], "a field was added to PersistentState: carry it in StateDelta (Sources/Overlay/Persistence/StateDelta.swift)")
    }

    @Test("every field of the IPAM state and its pools is carried by AllocatorDelta")
    func allocatorState() throws {
        var state = AllocatorState()
        let pool = try state.requestPool(PoolRequest(subnet: subnet("10.1.0.0/24")), configuration: .standard)
        let pool6 = try state.requestPool6(PoolRequest6(subnet: try IPv6Subnet(parsing: "fd00:1::/64")))
        #expect(Self.fields(state) == ["formatVersion", "pools", "pools6"], "carry the new field in AllocatorDelta")
        #expect(Self.fields(try #require(state.pools[pool.id])) == ["subnet", "range", "references", "addresses", "lastAllocated"],
                "carry the new PoolState field in AllocatorDelta")
        #expect(Self.fields(try #require(state.pools6[pool6.id])) == ["subnet", "blockPrefixLength", "references", "addresses", "lastAllocated"],
                "carry the new IPv6PoolState field in AllocatorDelta")
    }
}
