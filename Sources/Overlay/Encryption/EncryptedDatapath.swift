/// What the driver needs to carry encrypted networks: this host's WireGuard interface and key pair. Present
/// only where a WireGuard backend is available; without it encrypted networks are refused.
public struct EncryptedDatapath: Sendable {
    public let device: any WireGuardInterface
    public let filter: PlaintextVXLANFilter
    public let keys: WireGuardKeyPair
    public let listenPort: UInt16
    /// Each peer is sent a keepalive this often, so that a handshake happens before any FDB entry points at it
    /// (entries wait for the handshake) and NAT mappings stay open.
    public let keepaliveSeconds: UInt16
    /// How often a pass rechecks peers that have not handshaken yet.
    public let handshakeRecheck: Duration
    /// Where a rotated key is saved (the state directory); nil keeps rotated keys in memory only (tests).
    public let keyDirectory: String?
    /// How long a host that rotated its key keeps its FDB entries while its new peer's handshake is pending
    /// (``EncryptedPeerPlan``): three of WireGuard's 5 s handshake retries.
    public let rotationGrace: Duration
    /// Which backend this is and why it was chosen, for the status (``WireGuardSelection``).
    public let backend: String

    public init(device: any WireGuardInterface, filter: PlaintextVXLANFilter = PlaintextVXLANFilter(), keys: WireGuardKeyPair,
                listenPort: UInt16 = WireGuardConfiguration.defaultPort, keepaliveSeconds: UInt16 = 25,
                handshakeRecheck: Duration = .milliseconds(500), keyDirectory: String? = nil,
                rotationGrace: Duration = .seconds(15), backend: String = "userspace") {
        self.device = device
        self.filter = filter
        self.keys = keys
        self.listenPort = listenPort
        self.keepaliveSeconds = keepaliveSeconds
        self.handshakeRecheck = handshakeRecheck
        self.keyDirectory = keyDirectory
        self.rotationGrace = rotationGrace
        self.backend = backend
    }
}
