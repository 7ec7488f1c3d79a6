import Foundation
import Netlink
import Overlay
import Testing
import TestSupport

struct StateStoreTests {
    static let record = NetworkRecord(id: "n1", vni: VNI(42)!, subnet: subnet("10.1.0.0/24"), gateway: address("10.1.0.1"),
                                      mtu: 1450, isInternal: false)

    @Test func updatesAreSavedAndReloaded() async throws {
        try await withTemporaryDirectory { directory in
            do {
                let store = try StateStore(directory: directory)
                try store.update { $0.networks["n1"] = Self.record }
                try store.update { $0.networks["n2"] = Self.record }
            }
            let reopened = try StateStore(directory: directory)
            #expect(Set(reopened.current.networks.keys) == ["n1", "n2"])
            #expect(reopened.newestFile == directory + "/state-1.json")
            // The file an operator reads is JSON under a checksum line.
            let text = try String(contentsOfFile: directory + "/state-1.json", encoding: .utf8)
            #expect(text.split(separator: "\n").dropFirst().joined(separator: "\n").contains("\"vni\" : 42"))
        }
    }

    @Test func aTornNewestSlotFallsBackToTheOneBefore() async throws {
        try await withTemporaryDirectory { directory in
            do {
                let store = try StateStore(directory: directory)
                try store.update { $0.networks["n1"] = Self.record }
                let before = try Data(contentsOf: URL(fileURLWithPath: try #require(store.newestFile)))
                try store.update { $0.networks["n2"] = Self.record }
                // A crash during the second write: the slot being written is torn, and the other one has not yet
                // been given the copy of the new state, so it still holds the state before.
                let newest = try #require(store.newestFile)
                let other = newest.hasSuffix("state-0.json") ? directory + "/state-1.json" : directory + "/state-0.json"
                try before.write(to: URL(fileURLWithPath: other))
                let bytes = try Data(contentsOf: URL(fileURLWithPath: newest))
                try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: newest))
            }
            do {
                let reopened = try StateStore(directory: directory)
                #expect(Set(reopened.current.networks.keys) == ["n1"])
                // Writing goes on from there, over the torn slot.
                try reopened.update { $0.networks["n3"] = Self.record }
            }
            #expect(Set(try StateStore(directory: directory).current.networks.keys) == ["n1", "n3"])
        }
    }

    @Test("both slot files describe the current state: a removed network is in neither")
    func bothSlotsHoldTheCurrentState() async throws {
        try await withTemporaryDirectory { directory in
            let store = try StateStore(directory: directory)
            try store.update { $0.networks["n1"] = Self.record }
            try store.update { $0.networks["gone"] = Self.record }
            try store.update { $0.networks["gone"] = nil }
            for slot in 0..<2 {
                let text = try String(contentsOfFile: directory + "/state-\(slot).json", encoding: .utf8)
                #expect(!text.contains("\"gone\""), "state-\(slot).json still describes the removed network")
                #expect(text.contains("\"n1\""), "state-\(slot).json lost network n1")
            }
            // The flushed slot is the newest, and writing alternates as before.
            let first = try #require(store.newestFile)
            try store.update { $0.networks["n2"] = Self.record }
            #expect(try #require(store.newestFile) != first)
            #expect(Set(try StateStore(directory: directory, readOnly: true).current.networks.keys) == ["n1", "n2"])
        }
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

    @Test func unreadableOrForeignStateIsAClearError() async throws {
        try await withTemporaryDirectory { directory in
            try Data("garbage\n{not json".utf8).write(to: URL(fileURLWithPath: directory + "/state-0.json"))
            #expect {
                _ = try StateStore(directory: directory)
            } throws: { error in
                guard case .unreadable(let path, _)? = error as? StateStore.StoreError else { return false }
                return path == directory
            }
            // A state written by a future weft (format 99) is refused, not misread.
            do {
                let store = try StateStore(directory: directory + "/future")
                try store.update { $0.networks["n1"] = Self.record }
            }
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
    }

    /// A child process writes updates as fast as it can and is killed with SIGKILL at a random moment; the
    /// state it leaves always loads, and holds the last update that completed or the one after it.
    @Test(.serialized, arguments: 1...5)
    func killedMidWriteLeavesALoadableState(round: Int) async throws {
        try await withTemporaryDirectory { directory in
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
                // Waiting sleeps rather than spins: children spinning beside the test process starved the machine's
                // two cores, and the timing tests running in parallel with them failed.
                while !FileManager.default.fileExists(atPath: progress) { usleep(1_000) }
                usleep(UInt32.random(in: 5_000...100_000))
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

    func mode(_ path: String) -> mode_t {
        var status = stat()
        return stat(path, &status) == 0 ? status.st_mode & 0o7777 : 0
    }

    @Test("a second store on the same directory is refused naming the holder's pid; a read-only one works beside it")
    func oneWriterPerDirectory() async throws {
        try await withTemporaryDirectory { directory in
            do {
                let store = try StateStore(directory: directory)
                try store.update { $0.networks["n1"] = Self.record }
                #expect(throws: StateStore.StoreError.inUse(directory: directory, pid: getpid())) {
                    _ = try StateStore(directory: directory)
                }
                let reader = try StateStore(directory: directory, readOnly: true)
                #expect(Array(reader.current.networks.keys) == ["n1"])
                #expect(throws: StateStore.StoreError.readOnly(directory: directory)) {
                    try reader.update { $0.networks["n2"] = Self.record }
                }
                withExtendedLifetime(store) {}
            }
            // The lock goes with the store that held it.
            #expect(Array(try StateStore(directory: directory).current.networks.keys) == ["n1"])
            #expect(
                StateStore.StoreError.inUse(directory: "/var/lib/weft", pid: 42).description
                    == "state directory /var/lib/weft is in use by another weft (pid 42); stop it or give another --state-dir")
            // A read-only store of a directory never written reads an empty state and creates nothing.
            let empty = directory + "/never"
            try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
            #expect(try StateStore(directory: empty, readOnly: true).current == PersistentState())
            #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty)
        }
    }

    @Test("the lock of a weft killed with SIGKILL is free again")
    func killedHolderReleasesTheLock() async throws {
        try await withTemporaryDirectory { directory in
            let state = directory + "/state"
            let ready = directory + "/ready"
            let go = directory + "/go"
            let parent = Task { () -> (holder: Int32?, refused: StateStore.StoreError?) in
                guard await eventually(within: .seconds(60), every: .milliseconds(20), { FileManager.default.fileExists(atPath: ready) }) != nil
                else { return (nil, nil) }
                let holder = Int32((try? String(contentsOfFile: ready, encoding: .utf8)) ?? "")
                var refused: StateStore.StoreError?
                do throws(StateStore.StoreError) { _ = try StateStore(directory: state) } catch { refused = error }
                _ = FileManager.default.createFile(atPath: go, contents: nil)
                return (holder, refused)
            }
            await #expect(processExitsWith: .signal(SIGKILL)) { [state = state as String, ready = ready as String, go = go as String] in
                let store = try StateStore(directory: state)
                try "\(getpid())".write(toFile: ready, atomically: true, encoding: .utf8)
                let deadline = ContinuousClock.now + .seconds(60)
                while !FileManager.default.fileExists(atPath: go), ContinuousClock.now < deadline { usleep(10_000) }
                withExtendedLifetime(store) { _ = kill(getpid(), SIGKILL) }
            }
            let (holder, refused) = await parent.value
            let pid = try #require(holder, "the child never held the lock")
            #expect(refused == .inUse(directory: state, pid: pid))
            _ = try StateStore(directory: state)
        }
    }

    @Test("the state directory is made 0700 and its files 0600, also when they were wider")
    func privateModes() async throws {
        try await withTemporaryDirectory { parent in
            let directory = parent + "/a/state"
            let files = ["state-0.json", "state-1.json", "journal.log", "lock"].map { directory + "/" + $0 }
            do {
                let store = try StateStore(directory: directory)
                try store.update { $0.networks["n1"] = Self.record }
            }
            #expect(mode(parent + "/a") == 0o700 && mode(directory) == 0o700)
            for file in files { #expect(mode(file) == 0o600, "\(file)") }
            chmod(directory, 0o755)
            for file in files { chmod(file, 0o644) }
            _ = try StateStore(directory: directory)
            #expect(mode(directory) == 0o700)
            for file in files { #expect(mode(file) == 0o600, "\(file)") }
        }
    }
}
