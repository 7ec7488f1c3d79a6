import Foundation
import Netlink
import Overlay
import Testing
import TestSupport

/// The state journal: endpoint and address changes are appended as deltas and replayed on load, so a change
/// costs the same however many endpoints the state holds.
struct StateJournalTests {
    static let network = NetworkRecord(id: "n1", vni: VNI(42)!, subnet: subnet("10.1.0.0/16"), gateway: address("10.1.0.1"),
                                       mtu: 1450, isInternal: false)
    static let pool = PoolID(subnet: subnet("10.1.0.0/16"), range: nil)

    /// Endpoint `number` of network n1, with an ID of fixed length so every entry has the same size.
    static func endpoint(_ number: Int) -> EndpointRecord {
        let id = String(format: "ep%06d", number)
        let low = UInt8(number & 0xff), high = UInt8((number >> 8) & 0xff)
        return EndpointRecord(id: id, networkID: "n1", address: IPv4Address(0x0a01_0000 + UInt32(number) + 2), prefixLength: 16,
                              mac: MACAddress(bytes: [0x02, 0x42, 0x0a, 0x01, high, low])!, macChosenByWeft: true)
    }

    /// The journal's entries for the newest slot: its lines up to the zero fill that carry the newest slot's
    /// generation as `base` (lines of older slots stay in the file until overwritten, and loading skips them).
    func lines(_ path: String) -> [Substring] {
        let directory = (path as NSString).deletingLastPathComponent
        let generation = (0..<2).compactMap { slot -> Int? in
            guard let text = try? String(contentsOfFile: directory + "/state-\(slot).json", encoding: .utf8),
                let range = text.range(of: "\"generation\" : ") else { return nil }
            return Int(text[range.upperBound...].prefix { $0.isNumber })
        }.max() ?? 0
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
        let text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        return Array(text.split(separator: "\n").prefix { line in
            guard let range = line.range(of: "\"base\":") else { return false }
            return Int(line[range.upperBound...].prefix { $0.isNumber }) == generation
        })
    }

    /// The bytes of the journal's entries (what one update appended, when it is the only one).
    func entryBytes(_ path: String) -> Int { lines(path).reduce(0) { $0 + $1.utf8.count + 1 } }

    @Test("endpoint changes go to the journal, not the slots, and a reopened store replays them")
    func endpointChangesAreJournalled() async throws {
        try await withTemporaryDirectory { directory in
            let slotsBefore: [String]
            do {
                let store = try StateStore(directory: directory)
                try store.update { $0.networks["n1"] = Self.network }
                slotsBefore = try (0..<2).map { try String(contentsOfFile: directory + "/state-\($0).json", encoding: .utf8) }
                for number in 1...5 { try store.update { $0.endpoints[Self.endpoint(number).id] = Self.endpoint(number) } }
                try store.update { $0.endpoints[Self.endpoint(3).id] = nil }
                #expect(lines(directory + "/journal.log").count == 6)
                let slotsAfter = try (0..<2).map { try String(contentsOfFile: directory + "/state-\($0).json", encoding: .utf8) }
                #expect(slotsAfter == slotsBefore, "an endpoint change rewrote a slot file")
            }
            let expected = Set([1, 2, 4, 5].map { Self.endpoint($0).id })
            #expect(Set(try StateStore(directory: directory, readOnly: true).current.endpoints.keys) == expected)
            let reopened = try StateStore(directory: directory)
            #expect(Set(reopened.current.endpoints.keys) == expected)
            #expect(reopened.current.endpoints[Self.endpoint(4).id] == Self.endpoint(4))
            // Opening folded the journal into a slot: its entries name an older generation now.
            #expect(lines(directory + "/journal.log").isEmpty)
        }
    }

    @Test("a change to the set of networks is written to both slots at once; the journal is emptied")
    func networkChangesAreSnapshots() async throws {
        try await withTemporaryDirectory { directory in
            let store = try StateStore(directory: directory)
            try store.update { $0.networks["n1"] = Self.network }
            try store.update { $0.endpoints[Self.endpoint(1).id] = Self.endpoint(1) }
            try store.update { $0.networks["gone"] = Self.network }
            try store.update { $0.networks["gone"] = nil }
            #expect(lines(directory + "/journal.log").isEmpty)
            for slot in 0..<2 {
                let text = try String(contentsOfFile: directory + "/state-\(slot).json", encoding: .utf8)
                #expect(!text.contains("\"gone\"") && text.contains(Self.endpoint(1).id), "state-\(slot).json")
            }
        }
    }

    @Test("after the journal limit the store writes a slot and starts a new journal; nothing is lost")
    func journalLimitFoldsIntoASlot() async throws {
        try await withTemporaryDirectory { directory in
            do {
                let store = try StateStore(directory: directory, journalLimit: 3)
                try store.update { $0.networks["n1"] = Self.network }
                for number in 1...10 {
                    try store.update { $0.endpoints[Self.endpoint(number).id] = Self.endpoint(number) }
                    #expect(lines(directory + "/journal.log").count == number % 4, "after endpoint \(number)")
                }
            }
            #expect(try StateStore(directory: directory).current.endpoints.count == 10)
        }
    }

    @Test("a torn last journal line is ignored: the state before it loads, and writing goes on")
    func tornJournalTail() async throws {
        try await withTemporaryDirectory { directory in
            do {
                let store = try StateStore(directory: directory)
                try store.update { $0.networks["n1"] = Self.network }
                for number in 1...3 { try store.update { $0.endpoints[Self.endpoint(number).id] = Self.endpoint(number) } }
            }
            let journal = directory + "/journal.log"
            let bytes = try Data(contentsOf: URL(fileURLWithPath: journal))
            let end = entryBytes(journal)
            let lastLine = bytes.prefix(end - 1).lastIndex(of: 10)!
            try bytes.prefix(lastLine + 1 + (end - lastLine) / 2).write(to: URL(fileURLWithPath: journal))
            do {
                let reopened = try StateStore(directory: directory)
                #expect(Set(reopened.current.endpoints.keys) == Set([1, 2].map { Self.endpoint($0).id }))
                try reopened.update { $0.endpoints[Self.endpoint(7).id] = Self.endpoint(7) }
            }
            #expect(Set(try StateStore(directory: directory).current.endpoints.keys) == Set([1, 2, 7].map { Self.endpoint($0).id }))
        }
    }

    @Test("entries of an older slot are skipped: a crash after writing a slot and before emptying the journal")
    func staleEntriesAreSkipped() async throws {
        try await withTemporaryDirectory { directory in
            let journal = directory + "/journal.log"
            let stale: Data
            do {
                let store = try StateStore(directory: directory)
                try store.update { $0.networks["n1"] = Self.network }
                try store.update { $0.endpoints[Self.endpoint(1).id] = Self.endpoint(1) }
                stale = try Data(contentsOf: URL(fileURLWithPath: journal))
                try store.update { $0.networks["n2"] = Self.network }
                try store.update { $0.endpoints[Self.endpoint(1).id] = nil }
                try store.update { $0.networks["n2"] = nil }
            }
            // The journal still holds the entry adding endpoint 1, for the generation before.
            try stale.write(to: URL(fileURLWithPath: journal))
            let reopened = try StateStore(directory: directory)
            #expect(reopened.current.endpoints.isEmpty, "an entry of an older slot was replayed")
            #expect(Set(reopened.current.networks.keys) == ["n1"])
        }
    }

    @Test("IPAM address changes are journalled as single addresses and replay to the same pools")
    func addressChangesReplay() async throws {
        try await withTemporaryDirectory { directory in
            var expected = PersistentState()
            do {
                let store = try StateStore(directory: directory)
                try store.update { $0.networks["n1"] = Self.network }
                try store.update { state throws(IPAMError) in
                    _ = try state.ipam.requestPool(PoolRequest(subnet: subnet("10.1.0.0/16")), configuration: .standard)
                }
                var taken: [IPv4Address] = []
                for _ in 0..<20 {
                    taken.append(try store.update { state throws(IPAMError) in
                        try state.ipam.requestAddress(in: Self.pool, address: nil, role: .endpoint).address
                    })
                }
                for address in taken.prefix(5) {
                    try store.update { state throws(IPAMError) in try state.ipam.releaseAddress(address, in: Self.pool) }
                }
                try store.update { $0.knownPeers = ["192.0.2.12:7946"] }
                try store.update { $0.swarmAddress = IPAddress("192.0.2.11") }
                try store.update { $0.swarmAddress = nil }
                #expect(lines(directory + "/journal.log").count == 29)
                expected = store.current
            }
            #expect(try StateStore(directory: directory, readOnly: true).current == expected)
        }
    }

    @Test("one endpoint change appends the same bytes with 1,000 endpoints as with 10")
    func entrySizeDoesNotGrow() async throws {
        var sizes: [Int] = []
        for existing in [10, 1000] {
            sizes.append(try await withTemporaryDirectory { directory in
                let store = try StateStore(directory: directory)
                try store.update { state in
                    state.networks["n1"] = Self.network
                    for number in 1...existing { state.endpoints[Self.endpoint(number).id] = Self.endpoint(number) }
                }
                try store.update { $0.endpoints[Self.endpoint(5000).id] = Self.endpoint(5000) }
                return entryBytes(directory + "/journal.log")
            })
        }
        #expect(sizes[0] > 0 && sizes[0] == sizes[1], "journal bytes for one endpoint: \(sizes)")
    }

    /// A child appends endpoint changes as fast as it can and is killed with SIGKILL at a random moment; the
    /// state it leaves loads and holds the last acknowledged change or the one after it.
    @Test(.serialized, arguments: 1...3)
    func killedMidAppendLeavesALoadableState(round: Int) async throws {
        try await withTemporaryDirectory { directory in
            let progress = directory + "/completed"
            await #expect(processExitsWith: .signal(SIGKILL)) { [directory = directory as String, progress = progress as String] in
                let store = try StateStore(directory: directory + "/state", journalLimit: 50)
                try store.update { $0.networks["n1"] = Self.network }
                Thread.detachNewThread {
                    var number = 0
                    while true {
                        number += 1
                        try? store.update { $0.endpoints[Self.endpoint(number).id] = Self.endpoint(number) }
                        try? "\(number)".write(toFile: progress, atomically: true, encoding: .utf8)
                    }
                }
                // Waiting sleeps rather than spins: children spinning beside the test process starved the machine's
                // two cores, and the timing tests running in parallel with them failed.
                while !FileManager.default.fileExists(atPath: progress) { usleep(1_000) }
                usleep(UInt32.random(in: 5_000...100_000))
                kill(getpid(), SIGKILL)
            }
            let reopened = try StateStore(directory: directory + "/state")
            let saved = reopened.current.endpoints.count
            let completed = Int((try? String(contentsOfFile: progress, encoding: .utf8)) ?? "0") ?? 0
            #expect(saved > 0, "round \(round): the child saved nothing before it was killed")
            #expect(saved >= completed && saved <= completed + 1, "round \(round): \(saved) endpoints saved, \(completed) acknowledged")
            #expect(Set(reopened.current.endpoints.keys) == Set((1...max(saved, 1)).map { Self.endpoint($0).id }))
        }
    }
}
