import ArgumentParser
import DockerPlugin
import FoundationEssentials
import Gossip

/// `weft join`: asks a running daemon to join more gossip seeds.
struct JoinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Ask the running weft daemon to join more hosts (gossip seeds, host[:port]).")

    @Option(help: "The daemon's plugin socket.")
    var socket: String = PluginServerConfiguration.defaultSocketPath

    @Argument(help: "Hosts to join, host[:port].")
    var seeds: [String]

    func run() throws {
        let body = try JSONEncoder().encode(JoinSeedsRequest(seeds: seeds))
        let client = try PluginClient(path: socket)
        let reply = try client.post("Weft.Join", String(decoding: body, as: UTF8.self))
        guard reply.status == 200 else { throw ValidationError("the daemon refused: \(reply.body)") }
        let answered = try JSONDecoder().decode(JoinSeedsResponse.self, from: Data(reply.body.utf8)).answered
        print("joined: \(answered) of \(seeds.count) seeds answered")
    }
}

/// Serves `weft join` from the daemon's gossip node.
struct GossipControl: ControlBackend {
    let node: GossipNode
    let defaultPort: UInt16
    /// Where keyring changes are saved; nil saves nothing.
    let keyFile: GossipKeyFile?

    func join(seeds: [String]) async throws -> Int {
        let addresses = try seeds.map { text throws -> GossipAddress in
            guard let address = GossipAddress(parsing: text, defaultPort: defaultPort) else {
                throw ValidationError("\"\(text)\" is not host[:port]")
            }
            return address
        }
        return try await node.join(addresses)
    }

    /// `weft key`: changes the node's keyring, then saves it to the key file, so a restart keeps it.
    func keys(_ change: KeyringChange) async throws -> KeyringResponse {
        func key(withFingerprint fingerprint: String) async throws -> [UInt8] {
            guard let key = await node.keys.first(where: { GossipKey.fingerprint($0) == fingerprint }) else {
                throw ValidationError("no installed gossip key has the fingerprint \(fingerprint)")
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
                throw ValidationError("this daemon gossips in plaintext (--insecure-gossip): restart it with a key file to encrypt")
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
