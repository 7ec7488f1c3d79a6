import Foundation
import Testing
import TestSupport

/// `weft daemon` gossips only keyed unless told `--insecure-gossip`: a host given seeds but no key is refused
/// with the remedy, and a key file others can read is refused. (Keyed clusters themselves run in the end-to-end
/// tests, whose harness gives every host the cluster's key file.)
@Suite("weft daemon gossip keys", .enabled(if: Executables.weftIsBuilt, "needs the weft executable (swift build)"))
struct DaemonGossipKeyTests {
    func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let outcome = try await Command.run([Executables.weft] + arguments, timeout: .seconds(60))
        return (outcome.status, outcome.stdout + outcome.stderr)
    }

    @Test("seeds without a key: refused, saying how to get the key")
    func seedsWithoutKey() async throws {
        try await withTemporaryDirectory { directory in
            let result = try await run([
                "daemon", "--dry-run", "--socket", directory + "/weft.sock", "--state-dir", directory + "/state",
                "--runtime-dir", directory + "/run", "--join", "127.0.0.1:1",
            ])
            #expect(result.status != 0)
            #expect(result.output.contains("needs the cluster's key") && result.output.contains("--insecure-gossip"), "\(result.output)")
        }
    }

    @Test("a key file others can read: refused, naming the file and chmod")
    func openKeyFile() async throws {
        try await withTemporaryDirectory { directory in
            let keyPath = directory + "/cluster.key"
            let key = Data((0..<16).map { UInt8($0) }).base64EncodedString()
            _ = FileManager.default.createFile(atPath: keyPath, contents: Data(key.utf8), attributes: [.posixPermissions: 0o644])
            let result = try await run([
                "daemon", "--dry-run", "--socket", directory + "/weft.sock", "--state-dir", directory + "/state",
                "--runtime-dir", directory + "/run", "--join", "127.0.0.1:1", "--key-file", keyPath,
            ])
            #expect(result.status != 0)
            #expect(result.output.contains("chmod 600 \(keyPath)"), "\(result.output)")
            #expect(!result.output.contains(key))
        }
    }

    @Test("--insecure-gossip with a key is a contradiction, refused")
    func insecureWithKey() async throws {
        try await withTemporaryDirectory { directory in
            let result = try await run([
                "daemon", "--dry-run", "--socket", directory + "/weft.sock", "--state-dir", directory + "/state",
                "--runtime-dir", directory + "/run", "--join", "127.0.0.1:1", "--insecure-gossip",
                "--key-file", directory + "/none.key",
            ])
            #expect(result.status != 0)
            #expect(result.output.contains("--insecure-gossip cannot be combined"), "\(result.output)")
        }
    }

    @Test("weft key generate prints a fresh 32-byte key each time")
    func generate() async throws {
        let first = try await run(["key", "generate"])
        let second = try await run(["key", "generate"])
        #expect(first.status == 0 && second.status == 0)
        let decoded = Data(base64Encoded: first.output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(decoded?.count == 32, "\(first.output)")
        #expect(first.output != second.output)
    }
}
