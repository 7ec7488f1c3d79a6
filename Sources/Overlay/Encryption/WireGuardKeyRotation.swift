/// What the driver remembers across passes for key rotations: this host's current key pair once rotated, and
/// per other host the key it last handshook with and since when it has announced another (its grace).
public struct WireGuardKeyRotation: Sendable {
    /// This host's key pair after a rotation; nil while it is the datapath's (loaded at start).
    public var keys: WireGuardKeyPair?
    /// Host → the key its peer last handshook with.
    public var handshakenKeys: [String: WireGuardKey] = [:]
    /// Host → when a pass first found it reachable only by its rotation's grace.
    public var rotatingSince: [String: ContinuousClock.Instant] = [:]

    public init() {}

    /// The plan's `rotationGrace`: the hosts that handshook before and whose grace has not run out at `now`.
    public func grace(at now: ContinuousClock.Instant, lasting grace: Duration) -> [String: WireGuardKey] {
        handshakenKeys.filter { host, _ in rotatingSince[host].map { now - $0 < grace } ?? true }
    }

    /// Takes in a pass's plan: handshaken hosts and their keys, the start of each rotation's grace, and hosts
    /// that are no longer reachable forgotten (a later return is not a rotation).
    public mutating func record(_ plan: EncryptedPeerPlan, at now: ContinuousClock.Instant) {
        for (host, key) in plan.handshaken {
            handshakenKeys[host] = key
            rotatingSince[host] = nil
        }
        for host in plan.rotating where rotatingSince[host] == nil { rotatingSince[host] = now }
        let reachable = Set(plan.handshaken.keys).union(plan.rotating)
        handshakenKeys = handshakenKeys.filter { reachable.contains($0.key) }
        rotatingSince = rotatingSince.filter { reachable.contains($0.key) }
    }
}

/// The outcome of `weft encryption rotate`.
public struct WireGuardRotationResult: Sendable, Equatable, Codable {
    public var previousPublicKey: String
    public var publicKey: String
    /// The encrypted networks whose definitions now announce the new key.
    public var announcedNetworks: Int
    /// Whether the running WireGuard interface took the new key (false when no encrypted network exists here:
    /// the next interface starts with it).
    public var interfaceUpdated: Bool

    public init(previousPublicKey: String, publicKey: String, announcedNetworks: Int, interfaceUpdated: Bool) {
        self.previousPublicKey = previousPublicKey
        self.publicKey = publicKey
        self.announcedNetworks = announcedNetworks
        self.interfaceUpdated = interfaceUpdated
    }
}

/// Why a key rotation failed; the key that peers know stays in use in every case.
public enum WireGuardRotationError: Error, Sendable, CustomStringConvertible {
    case unavailable(reason: String)
    case save(WireGuardKeyPair.KeyError)
    /// The interface refused the new key; the key file was restored to the old one.
    case device(WireGuardError)

    public var description: String {
        switch self {
        case .unavailable(let reason): "WireGuard key rotation: this host has no WireGuard datapath: \(reason)"
        case .save(let error): "WireGuard key rotation: cannot save the new key (the old one stays): \(error)"
        case .device(let error): "WireGuard key rotation: the interface refused the new key (the old one stays): \(error)"
        }
    }
}
