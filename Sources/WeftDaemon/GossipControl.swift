import DockerPlugin
import Gossip

/// Serves `weft join` from the daemon's gossip node.
struct GossipControl: ControlBackend {
    let node: GossipNode
    let defaultPort: UInt16
    /// Where keyring changes are saved; nil saves nothing.
    let keyFile: GossipKeyFile?

    func join(seeds: [String]) async throws -> Int {
        let addresses = try seeds.map { text throws -> GossipAddress in
            guard let address = GossipAddress(parsing: text, defaultPort: defaultPort) else {
                throw ControlError.notAnAddress(text)
            }
            return address
        }
        return try await node.join(addresses)
    }

    /// `weft key`: changes the node's keyring, then saves it to the key file, so a restart keeps it.
    func keys(_ change: KeyringChange) async throws -> KeyringResponse {
        func key(withFingerprint fingerprint: String) async throws -> [UInt8] {
            guard let key = await node.keys.first(where: { GossipKey.fingerprint($0) == fingerprint }) else {
                throw ControlError.unknownFingerprint(fingerprint)
            }
            return key
        }
        switch change {
        case .list: break
        case .showPrimary:
            let keys = await node.keys
            return KeyringResponse(fingerprints: keys.map(GossipKey.fingerprint), primaryKey: keys.first.map(GossipKey.encode))
        case .install(let text):
            let key = try GossipKey.decode(text, source: "the key to install")
            if await node.keys.isEmpty {
                throw ControlError.plaintextGossip
            }
            try await node.installKey(key)
        case .use(let fingerprint): try await node.useKey(try await key(withFingerprint: fingerprint))
        case .remove(let fingerprint): try await node.removeKey(try await key(withFingerprint: fingerprint))
        }
        let keys = await node.keys
        if let keyFile, !keys.isEmpty, change != .list { try keyFile.write(keys) }
        return KeyringResponse(fingerprints: keys.map(GossipKey.fingerprint))
    }
}

/// Why a control call from the `weft` command was refused.
enum ControlError: Error, CustomStringConvertible {
    case notAnAddress(String)
    case unknownFingerprint(String)
    case plaintextGossip

    var description: String {
        switch self {
        case .notAnAddress(let text): "\"\(text)\" is not host[:port]"
        case .unknownFingerprint(let fingerprint): "no installed gossip key has the fingerprint \(fingerprint)"
        case .plaintextGossip: "this daemon gossips in plaintext (--insecure-gossip): restart it with a key file to encrypt"
        }
    }
}
