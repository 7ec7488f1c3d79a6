/// What the driver needs to carry encrypted networks: this host's WireGuard interface and key pair. Present
/// only where a WireGuard backend is available; without it encrypted networks are refused.
public struct EncryptedDatapath: Sendable {
    public let device: UserspaceWireGuardDevice
    public let filter: PlaintextVXLANFilter
    public let keys: WireGuardKeyPair
    public let listenPort: UInt16
    /// Each peer is sent a keepalive this often, so that a handshake happens before any FDB entry points at it
    /// (entries wait for the handshake) and NAT mappings stay open.
    public let keepaliveSeconds: UInt16
    /// How often a pass rechecks peers that have not handshaken yet.
    public let handshakeRecheck: Duration

    public init(device: UserspaceWireGuardDevice, filter: PlaintextVXLANFilter = PlaintextVXLANFilter(), keys: WireGuardKeyPair,
                listenPort: UInt16 = WireGuardConfiguration.defaultPort, keepaliveSeconds: UInt16 = 25,
                handshakeRecheck: Duration = .milliseconds(500)) {
        self.device = device
        self.filter = filter
        self.keys = keys
        self.listenPort = listenPort
        self.keepaliveSeconds = keepaliveSeconds
        self.handshakeRecheck = handshakeRecheck
    }
}
