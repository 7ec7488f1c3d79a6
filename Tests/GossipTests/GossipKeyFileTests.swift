import Foundation
import Gossip
import Testing

/// The gossip key file: a secret read only from a private regular file, written atomically with mode 0600, and
/// never quoted in an error.
@Suite("gossip key file")
struct GossipKeyFileTests {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "weft-keyfile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: directory) }

    @Test("written keys read back in order, the file has mode 0600")
    func roundTrip() throws {
        defer { cleanUp() }
        let file = GossipKeyFile(path: directory + "/gossip.key")
        let keys = [GossipKey.generate(), Array(repeating: 7, count: 16)]
        try file.write(keys)
        #expect(try file.read() == keys)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("a file others can read is refused, and the error names the remedy, not the key")
    func groupReadableRefused() throws {
        defer { cleanUp() }
        let file = GossipKeyFile(path: directory + "/gossip.key")
        let key = GossipKey.generate()
        try file.write([key])
        chmod(file.path, 0o644)
        do {
            _ = try file.read()
            Issue.record("a key file mode 0644 was read")
        } catch {
            #expect("\(error)".contains("mode 644") && "\(error)".contains("chmod 600 \(file.path)"), "\(error)")
            #expect(!"\(error)".contains(GossipKey.encode(key)))
        }
    }

    @Test("a symlink is refused, never followed")
    func symlinkRefused() throws {
        defer { cleanUp() }
        let target = GossipKeyFile(path: directory + "/real.key")
        try target.write([GossipKey.generate()])
        let link = directory + "/gossip.key"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target.path)
        #expect(throws: GossipKeyFileError.file(.insecure(path: link, reason: "a symbolic link"))) { try GossipKeyFile(path: link).read() }
    }

    @Test("a malformed line is named by number; its text is never quoted")
    func malformedLine() throws {
        defer { cleanUp() }
        let path = directory + "/gossip.key"
        let secretLooking = "bm90LWEta2V5LWJ1dC1zZWNyZXQ="  // base64 of 20 bytes: not a valid key size
        let good = GossipKey.encode(GossipKey.generate())
        _ = FileManager.default.createFile(
            atPath: path, contents: Data("# comment\n\(good)\n\(secretLooking)\n".utf8), attributes: [.posixPermissions: 0o600])
        do {
            _ = try GossipKeyFile(path: path).read()
            Issue.record("a 20-byte key was accepted")
        } catch {
            #expect("\(error)".contains("line 3") && "\(error)".contains("20 bytes"), "\(error)")
            #expect(!"\(error)".contains(secretLooking) && !"\(error)".contains(good))
        }
    }

    @Test("fingerprints are stable, differ per key and reveal no key bytes")
    func fingerprints() {
        let key = Array(repeating: UInt8(1), count: 32)
        #expect(GossipKey.fingerprint(key) == GossipKey.fingerprint(key))
        #expect(GossipKey.fingerprint(key) != GossipKey.fingerprint(Array(repeating: 2, count: 32)))
        #expect(GossipKey.fingerprint(key).count == 16)
    }
}
