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
}
