import Netlink

/// The desired state of weft's WireGuard interface: its key, its port and one peer per host that shares an
/// encrypted network with this one. Applied whole (peers not listed are removed), by every backend alike.
public struct WireGuardConfiguration: Sendable, Equatable {
    /// WireGuard's default UDP port, weft's too.
    public static let defaultPort: UInt16 = 51820

    public var keys: WireGuardKeyPair
    public var listenPort: UInt16
    /// Sorted by public key, so that renderings are stable.
    public var peers: [WireGuardPeer]

    public init(keys: WireGuardKeyPair, listenPort: UInt16 = defaultPort, peers: [WireGuardPeer]) {
        self.keys = keys
        self.listenPort = listenPort
        self.peers = peers.sorted { $0.publicKey.base64 < $1.publicKey.base64 }
    }
}

extension WireGuardKeyPair: Equatable {
    public static func == (lhs: WireGuardKeyPair, rhs: WireGuardKeyPair) -> Bool {
        lhs.publicKey == rhs.publicKey && lhs.privateKey == rhs.privateKey
    }
}

/// Another host's end of the tunnel.
public struct WireGuardPeer: Sendable, Equatable {
    public var publicKey: WireGuardKey
    /// Its underlay address and WireGuard port.
    public var endpoint: WireGuardEndpoint
    /// The inner addresses routed to it: its tunnel address.
    public var allowedIPs: [IPInterface]

    public init(publicKey: WireGuardKey, endpoint: WireGuardEndpoint, allowedIPs: [IPInterface]) {
        self.publicKey = publicKey
        self.endpoint = endpoint
        self.allowedIPs = allowedIPs
    }
}

/// An underlay address and UDP port, written `a.b.c.d:port` or `[v6]:port`.
public struct WireGuardEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16 = WireGuardConfiguration.defaultPort) {
        self.address = address
        self.port = port
    }

    /// Parses `a.b.c.d:port` or `[v6]:port`.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port != 0 else {
            return nil
        }
        var host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard let address = IPAddress(String(host)) else { return nil }
        self.init(address: address, port: port)
    }

    public var description: String { address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)" }
}

extension WireGuardConfiguration {
    /// The configuration as the kernel WireGuard's `WG_CMD_SET_DEVICE` takes it (``WireGuardMessages``).
    public func kernelDevice(interface: String) -> WireGuardMessages.Device {
        WireGuardMessages.Device(
            interface: interface, privateKey: keys.privateKey.bytes, listenPort: listenPort,
            peers: peers.map(KernelWireGuard.kernelPeer))
    }
}
