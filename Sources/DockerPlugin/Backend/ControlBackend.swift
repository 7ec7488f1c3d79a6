/// weft's own control calls, served on the plugin socket beside Docker's API (`POST /Weft.<Call>`), for the
/// `weft` command to reach a running daemon. The socket is root-only, like the daemon's other powers.
public protocol ControlBackend: Sendable {
    /// Joins more gossip seeds (`host[:port]`); returns how many answered.
    func join(seeds: [String]) async throws -> Int

    /// Lists or changes the gossip keyring (`weft key`).
    func keys(_ change: KeyringChange) async throws -> KeyringResponse
}

/// `POST /Weft.Join` body.
public struct JoinSeedsRequest: Codable, Sendable, Equatable {
    public var seeds: [String]

    public init(seeds: [String]) { self.seeds = seeds }

    enum CodingKeys: String, CodingKey { case seeds = "Seeds" }
}

/// `POST /Weft.Join` reply.
public struct JoinSeedsResponse: Codable, Sendable, Equatable {
    public var answered: Int

    public init(answered: Int) { self.answered = answered }

    enum CodingKeys: String, CodingKey { case answered = "Answered" }
}

/// A change to the running daemon's gossip keyring, with memberlist's keyring semantics (serf's `keys`).
public enum KeyringChange: Sendable, Equatable {
    /// Lists the keys.
    case list
    /// Adds a key (base64) for decryption.
    case install(key: String)
    /// Makes the installed key with this fingerprint the primary, which encrypts from now on.
    case use(fingerprint: String)
    /// Removes the installed key with this fingerprint; never the primary.
    case remove(fingerprint: String)
    /// Reveals the primary key (base64), for another host to join.
    case showPrimary
}

/// `POST /Weft.Keys` body: `{"Op": "list|install|use|remove|show", "Key": base64, "Fingerprint": hex}`.
public struct KeyringRequest: Codable, Sendable, Equatable {
    public var op: String
    public var key: String?
    public var fingerprint: String?

    public init(op: String, key: String? = nil, fingerprint: String? = nil) {
        self.op = op
        self.key = key
        self.fingerprint = fingerprint
    }

    /// The change this request asks for; nil when it is not one.
    public var change: KeyringChange? {
        switch (op, key, fingerprint) {
        case ("list", _, _): .list
        case ("install", let key?, _): .install(key: key)
        case ("use", _, let fingerprint?): .use(fingerprint: fingerprint)
        case ("remove", _, let fingerprint?): .remove(fingerprint: fingerprint)
        case ("show", _, _): .showPrimary
        default: nil
        }
    }

    enum CodingKeys: String, CodingKey {
        case op = "Op"
        case key = "Key"
        case fingerprint = "Fingerprint"
    }
}

/// `POST /Weft.Keys` reply: the keyring after the change, primary first, named by fingerprint.
public struct KeyringResponse: Codable, Sendable, Equatable {
    public var fingerprints: [String]
    /// Only for `show`: the primary key in base64.
    public var primaryKey: String?

    public init(fingerprints: [String], primaryKey: String? = nil) {
        self.fingerprints = fingerprints
        self.primaryKey = primaryKey
    }

    enum CodingKeys: String, CodingKey {
        case fingerprints = "Fingerprints"
        case primaryKey = "PrimaryKey"
    }
}
