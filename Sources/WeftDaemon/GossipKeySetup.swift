import Gossip
import Logging

/// The daemon's gossip keys, decided once at start: weft gossips keyed unless told `--insecure-gossip`.
///
/// In order: `--key-file` (or WEFT_KEY_FILE); keys in WEFT_GOSSIP_KEY (or the hidden `--encrypt`, which every
/// local user can read in /proc); plaintext when `--insecure-gossip`; the state directory's `gossip.key`; a new
/// key written to the state directory's `gossip.key` when this host has no seeds (it starts a cluster). A host
/// given seeds but no key is refused: it could not talk to them.
struct GossipKeySetup {
    enum Source: CustomStringConvertible {
        case keyFile(String)
        case environment
        case commandLine
        case generated(String)
        case insecure

        var description: String {
            switch self {
            case .keyFile(let path): "key file \(path)"
            case .environment: "WEFT_GOSSIP_KEY"
            case .commandLine: "--encrypt"
            case .generated(let path): "new key file \(path)"
            case .insecure: "--insecure-gossip"
            }
        }
    }

    /// The keys, primary first; empty when insecure.
    let keys: [[UInt8]]
    let source: Source
    /// Where keys changed at run time (`weft key install|use|remove`, SIGHUP) are saved and reloaded from.
    let keyFile: GossipKeyFile

    /// The state directory's key file, used when no other is named.
    static func defaultKeyFile(stateDirectory: String) -> GossipKeyFile {
        GossipKeyFile(path: stateDirectory + "/gossip.key")
    }

    static func resolve(
        keyFilePath: String?, environmentKeys: String?, commandLineKeys: [String], stateDirectory: String,
        insecure: Bool, hasSeeds: Bool, logger: Logger
    ) throws(GossipKeySetupError) -> GossipKeySetup {
        let defaultFile = defaultKeyFile(stateDirectory: stateDirectory)
        let given = [keyFilePath != nil, environmentKeys != nil, !commandLineKeys.isEmpty].filter { $0 }.count
        if insecure && given > 0 {
            throw .insecureWithKey
        }
        if let keyFilePath {
            let file = GossipKeyFile(path: keyFilePath)
            return GossipKeySetup(keys: try readKeys(file), source: .keyFile(keyFilePath), keyFile: file)
        }
        if let environmentKeys {
            let keys = try decodeKeys(environmentKeys.split(separator: ",").map(String.init), source: "WEFT_GOSSIP_KEY")
            return GossipKeySetup(keys: keys, source: .environment, keyFile: defaultFile)
        }
        if !commandLineKeys.isEmpty {
            logger.warning("gossip keys given with --encrypt are readable by every local user (/proc/<pid>/cmdline): use --key-file or WEFT_GOSSIP_KEY")
            let keys = try decodeKeys(commandLineKeys, source: "--encrypt")
            return GossipKeySetup(keys: keys, source: .commandLine, keyFile: defaultFile)
        }
        if insecure {
            return GossipKeySetup(keys: [], source: .insecure, keyFile: defaultFile)
        }
        if defaultFile.exists {
            return GossipKeySetup(keys: try readKeys(defaultFile), source: .keyFile(defaultFile.path), keyFile: defaultFile)
        }
        guard !hasSeeds else {
            throw .noKey(defaultFile: defaultFile.path)
        }
        let key = GossipKey.generate()
        do { try defaultFile.write([key]) } catch { throw .keyFile(error) }
        return GossipKeySetup(keys: [key], source: .generated(defaultFile.path), keyFile: defaultFile)
    }

    /// The wire settings for these keys: encrypted and verified, or plaintext when insecure.
    func wireConfig() throws(GossipKeySetupError) -> WireConfig {
        guard !keys.isEmpty else { return WireConfig() }
        do { return WireConfig(keyring: try Keyring(keys: keys)) } catch { throw .keyring(error) }
    }

    /// Logs where the keys came from, and what another host needs to join.
    func report(advertise: String, gossipPort: UInt16, logger: Logger) {
        switch source {
        case .insecure:
            logger.warning("gossip is NOT encrypted (--insecure-gossip): anyone who can reach the gossip port can read the cluster's tables and forge membership; give every host a key file instead")
        case .generated(let path):
            logger.notice(
                "this host starts a new cluster with a new gossip key; to add a host, copy \(path) to its state directory (mode 0600; `weft key show` prints the key) and start it with --join \(advertise.contains(":") ? "[\(advertise)]" : advertise):\(gossipPort)",
                metadata: ["key": "\(GossipKey.fingerprint(keys[0]))"])
        default:
            logger.info(
                "gossip encrypted", metadata: ["keys": "\(keys.count)", "primary": "\(GossipKey.fingerprint(keys[0]))", "from": "\(source)"])
        }
    }

    private static func readKeys(_ file: GossipKeyFile) throws(GossipKeySetupError) -> [[UInt8]] {
        do { return try file.read() } catch { throw .keyFile(error) }
    }

    private static func decodeKeys(_ texts: [String], source: String) throws(GossipKeySetupError) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        for (index, text) in texts.enumerated() {
            do {
                let key = try GossipKey.decode(text, source: texts.count == 1 ? source : "\(source) (key \(index + 1))")
                if !keys.contains(key) { keys.append(key) }
            } catch { throw .keyFile(error) }
        }
        guard !keys.isEmpty else { throw .empty(source: source) }
        return keys
    }
}

/// Why the daemon cannot gossip with the keys it was given (or not given).
enum GossipKeySetupError: Error, CustomStringConvertible {
    case insecureWithKey
    case noKey(defaultFile: String)
    case keyFile(GossipKeyFileError)
    case keyring(WireError)
    case empty(source: String)

    var description: String {
        switch self {
        case .insecureWithKey:
            "--insecure-gossip cannot be combined with a gossip key (--key-file, WEFT_GOSSIP_KEY or --encrypt)"
        case .noKey(let path):
            """
            the gossip needs the cluster's key to join its seeds, and this host has none: copy the key file of a \
            member (its state directory's gossip.key, or the output of `weft key show` there) to \(path) with mode \
            0600, or give --key-file or WEFT_GOSSIP_KEY (--insecure-gossip gossips in plaintext, which anyone on the \
            underlay can read and forge)
            """
        case .keyFile(let error): "\(error)"
        case .keyring(let error): "gossip keys: \(error)"
        case .empty(let source): "\(source) holds no key"
        }
    }
}
