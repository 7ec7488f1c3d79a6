import Foundation
import Netlink
import Overlay
import Testing

struct StateStoreTests {
    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("weft-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static let record = NetworkRecord(id: "n1", vni: VNI(42)!, subnet: subnet("10.1.0.0/24"), gateway: address("10.1.0.1"),
                                      mtu: 1450, isInternal: false)

    @Test func updatesAreSavedAndReloaded() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try StateStore(directory: directory)
        try store.update { $0.networks["n1"] = Self.record }
        try store.update { $0.networks["n2"] = Self.record }
        let reopened = try StateStore(directory: directory)
        #expect(Set(reopened.current.networks.keys) == ["n1", "n2"])
        #expect(reopened.newestFile == directory + "/state-1.json")
        // The file an operator reads is JSON under a checksum line.
        let text = try String(contentsOfFile: directory + "/state-1.json", encoding: .utf8)
        #expect(text.split(separator: "\n").dropFirst().joined(separator: "\n").contains("\"vni\" : 42"))
    }

    @Test func aTornNewestSlotFallsBackToTheOneBefore() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try StateStore(directory: directory)
        try store.update { $0.networks["n1"] = Self.record }
        try store.update { $0.networks["n2"] = Self.record }
        let newest = try #require(store.newestFile)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: newest))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: newest))
        let reopened = try StateStore(directory: directory)
        #expect(Set(reopened.current.networks.keys) == ["n1"])
        // Writing goes on from there, over the torn slot.
        try reopened.update { $0.networks["n3"] = Self.record }
        #expect(Set(try StateStore(directory: directory).current.networks.keys) == ["n1", "n3"])
    }

    @Test func aFailedChangeChangesNothing() throws {
        struct Refused: Error {}
        let store = StateStore(inMemory: PersistentState())
        #expect(throws: Refused.self) {
            try store.update { state in
                state.networks["n1"] = Self.record
                throw Refused()
            }
        }
        #expect(store.current.networks.isEmpty)
    }

    @Test func unreadableOrForeignStateIsAClearError() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("garbage\n{not json".utf8).write(to: URL(fileURLWithPath: directory + "/state-0.json"))
        #expect {
            _ = try StateStore(directory: directory)
        } throws: { error in
            guard case .unreadable(let path, _)? = error as? StateStore.StoreError else { return false }
            return path == directory
        }
        // A state written by a future weft (format 99) is refused, not misread.
        let store = try StateStore(directory: directory + "/future")
        try store.update { $0.networks["n1"] = Self.record }
        let file = directory + "/future/state-0.json"
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n", maxSplits: 1)
        let document = String(lines[1]).replacingOccurrences(of: "\"formatVersion\" : 1,\n    \"ipam\"", with: "\"formatVersion\" : 99,\n    \"ipam\"")
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in document.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        try (String(hash, radix: 16) + "\n" + document).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: StateStore.StoreError.unsupportedFormat(path: file, version: 99)) {
            _ = try StateStore(directory: directory + "/future")
        }
    }

    /// A child process writes updates as fast as it can and is killed with SIGKILL at a random moment; the
    /// state it leaves always loads, and holds the last update that completed or the one after it.
    @Test(arguments: 1...5)
    func killedMidWriteLeavesALoadableState(round: Int) async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let progress = directory + "/completed"
        await #expect(processExitsWith: .signal(SIGKILL)) { [directory = directory as String, progress = progress as String] in
            let store = try StateStore(directory: directory)
            Thread.detachNewThread {
                var number = 0
                while true {
                    number += 1
                    try? store.update { state in
                        state.networks["n\(number)"] = NetworkRecord(
                            id: "n\(number)", vni: VNI(UInt32(number))!, subnet: subnet("10.1.0.0/24"), gateway: nil, mtu: 1450,
                            isInternal: false)
                    }
                    try? "\(number)".write(toFile: progress, atomically: true, encoding: .utf8)
                }
            }
            // The random moment is counted from the first completed update, so a slow start (a loaded CI machine)
            // cannot leave nothing to check.
            while !FileManager.default.fileExists(atPath: progress) {}
            let deadline = ContinuousClock.now + .milliseconds(Int.random(in: 5...100))
            while ContinuousClock.now < deadline {}
            kill(getpid(), SIGKILL)
        }
        let reopened = try StateStore(directory: directory)
        let saved = reopened.current.networks.count
        let completed = Int((try? String(contentsOfFile: progress, encoding: .utf8)) ?? "0") ?? 0
        #expect(saved > 0, "round \(round): the child saved nothing before it was killed")
        #expect(saved >= completed && saved <= completed + 1, "round \(round): \(saved) networks saved, \(completed) updates acknowledged")
        #expect(Set(reopened.current.networks.keys) == Set((0..<saved).map { "n\($0 + 1)" }))
    }
}
