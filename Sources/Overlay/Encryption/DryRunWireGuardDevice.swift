import Netlink
import Synchronization

/// The dry run's WireGuard interface: prints what weft would do to `weft-wg` — `ip` lines for the link, its
/// address and the fail-closed route, `wg set` lines for the key and the peers — and changes nothing. The private
/// key is named by its file, never printed. A dry run has no handshakes to wait for: every configured peer counts
/// as handshaken, so the FDB lines toward the peers' tunnel addresses are printed too.
public final class DryRunWireGuardDevice: WireGuardInterface {
    public let name: String
    /// Where the printed commands read the private key from.
    public let privateKeyPath: String
    private let emit: @Sendable (String) -> Void
    private let peers = Mutex<[WireGuardPeer]?>(nil)

    public init(name: String = UserspaceWireGuardDevice.defaultName, privateKeyPath: String,
                emit: @escaping @Sendable (String) -> Void) {
        self.name = name
        self.privateKeyPath = privateKeyPath
        self.emit = emit
    }

    @discardableResult
    public func bringUp(_ configuration: WireGuardConfiguration, tunnel: IPv4Address, mtu: UInt32,
                        session: NetlinkSession) throws(WireGuardDeviceError) -> UserspaceWireGuardDevice.Origin {
        emit("ip link add \(name) type wireguard")
        for line in DryRunWireGuard.commands(configuration, interface: name, privateKeyPath: privateKeyPath) { emit(line) }
        emit("ip address add \(tunnel)/\(TunnelAddressing.prefixLength) dev \(name)")
        emit("ip link set \(name) mtu \(mtu) up")
        emit((["ip", "route", "replace"] + UserspaceWireGuardDevice.failClosedRoute).joined(separator: " "))
        peers.withLock { $0 = configuration.peers }
        return .started
    }

    public func status() throws(WireGuardError) -> WireGuardStatus {
        let configured = peers.withLock { $0 } ?? []
        return WireGuardStatus(
            listenPort: nil,
            peers: configured.map {
                WireGuardStatus.Peer(publicKey: $0.publicKey, endpoint: $0.endpoint, allowedIPs: $0.allowedIPs, lastHandshakeSeconds: 1)
            })
    }

    /// `wg set` lines for the peers added or changed, then one per peer removed.
    public func update(peers wanted: [WireGuardPeer], keepaliveSeconds: UInt16) throws(WireGuardError) {
        let present = peers.withLock { $0 } ?? []
        for line in Self.peerCommands(wanted, present: present, keepaliveSeconds: keepaliveSeconds, interface: name) { emit(line) }
        peers.withLock { $0 = wanted }
    }

    public func setIdentity(_ keys: WireGuardKeyPair) throws(WireGuardError) {
        emit("wg set \(name) private-key \(privateKeyPath)")
    }

    public func tearDown(session: NetlinkSession) {
        emit("ip link del \(name)")
        emit((["ip", "route", "del"] + UserspaceWireGuardDevice.failClosedRoute).joined(separator: " "))
        peers.withLock { $0 = nil }
    }

    /// The `wg set` lines that bring `present` to `wanted`, as ``WireGuardUAPI/updateRequest(peers:present:keepaliveSeconds:)``
    /// does: each new or changed peer set in place, each peer no longer wanted removed.
    public static func peerCommands(_ wanted: [WireGuardPeer], present: [WireGuardPeer], keepaliveSeconds: UInt16,
                                    interface: String) -> [String] {
        var lines: [String] = []
        for peer in wanted.sorted(by: { $0.publicKey.base64 < $1.publicKey.base64 }) where !present.contains(peer) {
            let allowed = peer.allowedIPs.isEmpty ? "''" : peer.allowedIPs.map(\.description).joined(separator: ",")
            lines.append("wg set \(interface) peer \(peer.publicKey) endpoint \(peer.endpoint) persistent-keepalive \(keepaliveSeconds) allowed-ips \(allowed)")
        }
        let kept = Set(wanted.map(\.publicKey))
        for peer in present.sorted(by: { $0.publicKey.base64 < $1.publicKey.base64 }) where !kept.contains(peer.publicKey) {
            lines.append("wg set \(interface) peer \(peer.publicKey) remove")
        }
        return lines
    }
}
