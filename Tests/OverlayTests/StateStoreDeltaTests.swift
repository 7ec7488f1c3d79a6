import Foundation
import Netlink
@testable import Overlay
import Testing
import TestSupport

/// `StateStore.apply(_:)`, the write path of endpoint changes: the caller names the change key by key, so the
/// store neither copies nor compares the whole state; what it writes and what a reopened store loads must be
/// exactly what `update` would have given.
struct StateStoreDeltaTests {
    static func endpoint(_ number: Int) -> EndpointRecord { StateJournalTests.endpoint(number) }

    @Test("endpoints set and removed by delta are journalled and reload as with update; across the journal limit too")
    func deltasReloadAsUpdatesDo() async throws {
        try await withTemporaryDirectory { directory in
            let expected: PersistentState
            do {
                let store = try StateStore(directory: directory + "/state", journalLimit: 3)
                try store.update { $0.networks["n1"] = StateJournalTests.network }
                var mirror = store.current
                for number in 1...10 {
                    try store.apply(.endpoint(Self.endpoint(number).id, Self.endpoint(number)))
                    mirror.endpoints[Self.endpoint(number).id] = Self.endpoint(number)
                }
                for number in [3, 7] {
                    try store.apply(.endpoint(Self.endpoint(number).id, nil))
                    mirror.endpoints[Self.endpoint(number).id] = nil
                }
                #expect(store.current == mirror)
                expected = mirror
            }
            let reopened = try StateStore(directory: directory + "/state", readOnly: true)
            #expect(reopened.current == expected)
            #expect(reopened.current.endpoints.count == 8)
        }
    }

    @Test("a read-only store refuses a delta and keeps its state")
    func readOnlyRefuses() async throws {
        try await withTemporaryDirectory { directory in
            do {
                let store = try StateStore(directory: directory + "/state")
                try store.update { $0.networks["n1"] = StateJournalTests.network }
            }
            let readOnly = try StateStore(directory: directory + "/state", readOnly: true)
            #expect(throws: StateStore.StoreError.readOnly(directory: directory + "/state")) {
                try readOnly.apply(.endpoint(Self.endpoint(1).id, Self.endpoint(1)))
            }
            #expect(readOnly.current.endpoints.isEmpty)
        }
    }

    @Test("an in-memory store applies a delta in place")
    func inMemory() throws {
        let store = StateStore(inMemory: PersistentState())
        try store.apply(.endpoint(Self.endpoint(1).id, Self.endpoint(1)))
        #expect(store.current.endpoints == [Self.endpoint(1).id: Self.endpoint(1)])
        try store.apply(.endpoint(Self.endpoint(1).id, nil))
        #expect(store.current.endpoints.isEmpty)
    }

    // MARK: IPAM deltas

    static let subnet4 = subnet("10.9.0.0/24")
    static let subnet6 = try! IPv6Subnet(parsing: "fd00:9::/64")
    static let sharing = try! AllocatorConfiguration(sharesRequestedAddresses: true)

    /// A run of IPAM requests of every kind: pools taken twice and released, gateways, automatic and explicit
    /// addresses, shared explicit addresses, releases of held, free and unknown addresses, IPv4 and IPv6.
    static func ipamRequests(_ allocator: any AddressAllocator) async throws {
        let allocated = try await allocator.requestPool(PoolRequest(subnet: subnet4))
        let pool = allocated.id
        _ = try await allocator.requestPool(PoolRequest(subnet: subnet4))
        _ = try await allocator.requestAddress(in: pool, address: nil, role: .gateway)
        _ = try await allocator.requestAddress(in: pool, address: nil, role: .gateway)
        var taken: [IPv4Address] = []
        for _ in 0..<8 { taken.append(try await allocator.requestAddress(in: pool, address: nil, role: .endpoint).address) }
        _ = try await allocator.requestAddress(in: pool, address: address("10.9.0.200"), role: .endpoint)
        _ = try await allocator.requestAddress(in: pool, address: address("10.9.0.200"), role: .endpoint)
        for index in [1, 4, 6] { try await allocator.releaseAddress(taken[index], in: pool) }
        try await allocator.releaseAddress(address("10.9.0.200"), in: pool)
        try await allocator.releaseAddress(address("10.9.0.250"), in: pool)
        try await allocator.releaseAddress(address("10.9.0.2"), in: PoolID(subnet: subnet("10.99.0.0/24"), range: nil))
        _ = try await allocator.requestAddress(in: pool, address: nil, role: .endpoint)
        try await allocator.releaseAddress(allocated.gateway, in: pool)
        let other = try await allocator.requestPool(PoolRequest()).id
        _ = try await allocator.requestAddress(in: other, address: nil, role: .endpoint)
        try await allocator.releasePool(pool)
        let pool6 = try await allocator.requestPool6(PoolRequest6(subnet: subnet6)).id
        _ = try await allocator.requestAddress6(in: pool6, address: nil, role: .gateway)
        let first6 = try await allocator.requestAddress6(in: pool6, address: nil, role: .endpoint).address
        _ = try await allocator.requestAddress6(in: pool6, address: nil, role: .endpoint)
        try await allocator.releaseAddress6(first6, in: pool6)
        try await allocator.releasePool(other)
    }

    @Test("IPAM requests saved as deltas give the state update gives, in memory and reloaded, across the journal limit")
    func ipamDeltasReloadAsUpdatesDo() async throws {
        try await withTemporaryDirectory { directory in
            // The same requests through the state's own mutating calls, saved by `update` (which diffs the state).
            let reference = try StateStore(directory: directory + "/reference", journalLimit: 3)
            try await Self.ipamRequests(UpdatingAllocator(store: reference))
            let expected = reference.current
            #expect(expected.ipam.pools.count == 1 && expected.ipam.pools6.count == 1)
            // What the requests leave, spelled out (both paths apply the same pool delta in memory).
            let pool = try #require(expected.ipam.pools[PoolID(subnet: Self.subnet4, range: nil)])
            #expect(pool.references == 1 && pool.lastAllocated == address("10.9.0.10"))
            #expect(pool.addresses.mapValues(\.references) == Dictionary(uniqueKeysWithValues:
                ["10.9.0.1", "10.9.0.2", "10.9.0.4", "10.9.0.5", "10.9.0.7", "10.9.0.9", "10.9.0.10", "10.9.0.200"].map { (address($0), 1) }))
            #expect(pool.addresses[address("10.9.0.1")]?.role == .gateway)
            let pool6 = try #require(expected.ipam.pools6[PoolID(subnet6: Self.subnet6)])
            #expect(pool6.addresses.keys.map(\.description).sorted() == ["fd00:9::1", "fd00:9::3"])
            #expect(pool6.lastAllocated?.description == "fd00:9::3" && pool6.references == 1)

            let journalled: PersistentState
            do {
                let store = try StateStore(directory: directory + "/state", journalLimit: 3)
                try store.update { $0.networks["n1"] = StateJournalTests.network }
                try await Self.ipamRequests(LocalAddressAllocator(configuration: Self.sharing, store: store))
                journalled = store.current
            }
            var withoutNetwork = journalled
            withoutNetwork.networks = [:]
            #expect(withoutNetwork == expected)
            #expect(try StateStore(directory: directory + "/state", readOnly: true).current == journalled)
            #expect(try StateStore(directory: directory + "/reference", readOnly: true).current == expected)
        }
    }

    @Test("claimed-block deltas are journalled and reload")
    func claimedBlocksReload() async throws {
        try await withTemporaryDirectory { directory in
            let expected: PersistentState
            do {
                let store = try StateStore(directory: directory + "/state", journalLimit: 4)
                try store.update { $0.networks["n1"] = StateJournalTests.network }
                for block in 0..<6 {
                    try store.apply { state in
                        ((), StateDelta.ipam(nil, claimedBlocks: KeyedDelta(set: ["10.9.0.0/24": state.claimedBlocks["10.9.0.0/24", default: []] + [block]])))
                    }
                }
                try store.apply { _ in ((), StateDelta.ipam(nil, claimedBlocks: KeyedDelta(set: ["fd00:9::/64": [3]]))) }
                try store.apply { _ in ((), StateDelta.ipam(nil, claimedBlocks: KeyedDelta(removed: ["10.9.0.0/24"]))) }
                #expect(store.current.claimedBlocks == ["fd00:9::/64": [3]])
                expected = store.current
            }
            #expect(try StateStore(directory: directory + "/state", readOnly: true).current == expected)
        }
    }

    @Test("a plan that throws or finds nothing to change writes nothing")
    func planThatThrowsWritesNothing() async throws {
        try await withTemporaryDirectory { directory in
            let store = try StateStore(directory: directory + "/state")
            try store.update { $0.networks["n1"] = StateJournalTests.network }
            let before = store.current
            let allocator = LocalAddressAllocator(store: store)
            await #expect(throws: IPAMError.unknownPool(StateJournalTests.pool)) {
                try await allocator.requestAddress(in: StateJournalTests.pool, address: nil, role: .endpoint)
            }
            try await allocator.releaseAddress(address("10.1.0.9"), in: StateJournalTests.pool)
            #expect(store.current == before)
            #expect(StateJournalTests().lines(directory + "/state/journal.log").isEmpty)
        }
    }

    @Test("kill -9 during an IPAM journal append: the torn last entry is dropped, the ones before it reload")
    func tornLastIPAMEntry() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/state"
            var states: [PersistentState] = []
            let pool: PoolID
            do {
                let store = try StateStore(directory: path)
                try store.update { $0.networks["n1"] = StateJournalTests.network }
                let allocator = LocalAddressAllocator(store: store)
                pool = try await allocator.requestPool(PoolRequest(subnet: Self.subnet4)).id
                states.append(store.current)
                for _ in 0..<5 {
                    _ = try await allocator.requestAddress(in: pool, address: nil, role: .endpoint)
                    states.append(store.current)
                }
                try await allocator.releaseAddress(address("10.9.0.2"), in: pool)
                states.append(store.current)
            }
            // Tear the last entry as a crash in its write would: its first half reached the disk, then the zero fill.
            let journal = path + "/journal.log"
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: journal)))
            let end = try #require(bytes.firstIndex(of: 0))
            let lastStart = (bytes[..<(end - 1)].lastIndex(of: 10) ?? -1) + 1
            #expect(StateJournalTests().lines(journal).count == 7)
            for index in ((lastStart + end) / 2)..<end { bytes[index] = 0 }
            try Data(bytes).write(to: URL(fileURLWithPath: journal))

            #expect(try StateStore(directory: path, readOnly: true).current == states[states.count - 2])
            // A writable open starts a new slot from what survived, and goes on journalling.
            do {
                let store = try StateStore(directory: path)
                #expect(store.current == states[states.count - 2])
                try await LocalAddressAllocator(store: store).releaseAddress(address("10.9.0.3"), in: pool)
                states.append(store.current)
            }
            let reopened = try StateStore(directory: path, readOnly: true).current
            #expect(reopened == states.last)
            #expect(reopened.ipam.pools[pool]?.addresses.keys.sorted() == ["10.9.0.1", "10.9.0.2", "10.9.0.4", "10.9.0.5"].map(address))
        }
    }
}

/// An allocator whose every request changes the state through ``StateStore/update(_:)``, which finds the change
/// by comparing the whole state: the reference the delta path must match.
private struct UpdatingAllocator: AddressAllocator {
    let store: StateStore

    private func change<T>(_ body: (inout AllocatorState) throws(IPAMError) -> T) throws(IPAMError) -> T {
        do {
            return try store.update { (state: inout PersistentState) throws(IPAMError) -> T in try body(&state.ipam) }
        } catch let error as IPAMError {
            throw error
        } catch {
            throw .persistence("\(error)")
        }
    }

    func requestPool(_ request: PoolRequest) throws(IPAMError) -> AllocatedPool {
        try change { (state: inout AllocatorState) throws(IPAMError) in try state.requestPool(request, configuration: StateStoreDeltaTests.sharing) }
    }

    func releasePool(_ id: PoolID) throws(IPAMError) {
        try change { (state: inout AllocatorState) in state.releasePool(id) }
    }

    func requestAddress(in pool: PoolID, address: IPv4Address?, role: AddressRole) throws(IPAMError) -> AllocatedAddress {
        try change { (state: inout AllocatorState) throws(IPAMError) in try state.requestAddress(in: pool, address: address, role: role, sharing: true) }
    }

    func releaseAddress(_ address: IPv4Address, in pool: PoolID) throws(IPAMError) {
        try change { (state: inout AllocatorState) throws(IPAMError) in try state.releaseAddress(address, in: pool) }
    }

    func requestPool6(_ request: PoolRequest6) throws(IPAMError) -> AllocatedPool6 {
        try change { (state: inout AllocatorState) throws(IPAMError) in try state.requestPool6(request) }
    }

    func requestAddress6(in pool: PoolID, address: IPv6Address?, role: AddressRole) throws(IPAMError) -> AllocatedAddress6 {
        try change { (state: inout AllocatorState) throws(IPAMError) in try state.requestAddress6(in: pool, address: address, role: role, sharing: true) }
    }

    func releaseAddress6(_ address: IPv6Address, in pool: PoolID) throws(IPAMError) {
        try change { (state: inout AllocatorState) throws(IPAMError) in try state.releaseAddress6(address, in: pool) }
    }
}
