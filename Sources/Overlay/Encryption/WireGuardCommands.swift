import Netlink

/// The dry run's WireGuard: prints, as `wg set …` commands, what would be applied, as the `ip`/`bridge` lines
/// print the netlink requests. The private key is named by its file, never printed.
public struct DryRunWireGuard: WireGuardBackend {
    public var kind: WireGuardBackendKind { .dryRun }
    /// Where the printed command reads the private key from.
    public let privateKeyPath: String
    private let emit: @Sendable (String) -> Void

    public init(privateKeyPath: String, emit: @escaping @Sendable (String) -> Void) {
        self.privateKeyPath = privateKeyPath
        self.emit = emit
    }

    public func apply(_ configuration: WireGuardConfiguration, interface: String) throws(WireGuardError) {
        for line in Self.commands(configuration, interface: interface, privateKeyPath: privateKeyPath) { emit(line) }
    }

    public func status(interface: String) throws(WireGuardError) -> WireGuardStatus { WireGuardStatus() }

    /// `wg set` lines equivalent to ``WireGuardUAPI/setRequest(_:)``: the key and port, the peers, then every
    /// peer the device has and the configuration does not is removed (`wg syncconf` semantics, spelled out).
    public static func commands(_ configuration: WireGuardConfiguration, interface: String, privateKeyPath: String,
                                present: [WireGuardKey] = []) -> [String] {
        var lines = ["wg set \(interface) listen-port \(configuration.listenPort) private-key \(privateKeyPath)"]
        for peer in configuration.peers {
            let allowed = peer.allowedIPs.isEmpty ? "''" : peer.allowedIPs.map(\.description).joined(separator: ",")
            lines.append("wg set \(interface) peer \(peer.publicKey) endpoint \(peer.endpoint) allowed-ips \(allowed)")
        }
        let wanted = Set(configuration.peers.map(\.publicKey))
        for key in present where !wanted.contains(key) {
            lines.append("wg set \(interface) peer \(key) remove")
        }
        return lines
    }
}
