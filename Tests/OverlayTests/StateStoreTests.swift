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
        let reopened = try StateStore(directory: directory)
        #expect(reopened.current.networks["n1"] == Self.record)
        #expect(FileManager.default.fileExists(atPath: directory + "/state.json"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/state.json.tmp"))
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
        try Data("{\"formatVersion\": 99}".utf8).write(to: URL(fileURLWithPath: directory + "/state.json"))
        #expect(throws: StateStore.StoreError.unsupportedFormat(path: directory + "/state.json", version: 99)) {
            _ = try StateStore(directory: directory)
        }
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: directory + "/state.json"))
        #expect {
            _ = try StateStore(directory: directory)
        } throws: { error in
            guard case .unreadable(let path, _)? = error as? StateStore.StoreError else { return false }
            return path == directory + "/state.json"
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
            let deadline = ContinuousClock.now + .milliseconds(Int.random(in: 20...120))
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
            while ContinuousClock.now < deadline {}
            kill(getpid(), SIGKILL)
        }
        let reopened = try StateStore(directory: directory)
        let saved = reopened.current.networks.count
        let completed = Int((try? String(contentsOfFile: progress, encoding: .utf8)) ?? "0") ?? 0
        #expect(saved > 0, "round \(round): the child saved nothing before it was killed")
        #expect(saved >= completed && saved <= completed + 1, "round \(round): \(saved) networks saved, \(completed) updates acknowledged")
        #expect(Set(reopened.current.networks.keys) == Set((1...saved).map { "n\($0)" }))
    }
}
