import Netlink
import Synchronization

/// The kernel's WireGuard, configured over generic netlink (libmnl, ``WireGuardNetlink``): the same operations as
/// wireguard-go's UAPI socket (``UserspaceWireGuard``), as `WG_CMD_SET_DEVICE` and `WG_CMD_GET_DEVICE` messages.
/// Every failure names the interface, the command, the errno and the kernel's own text.
public final class KernelWireGuard: LiveWireGuardBackend {
    public var kind: WireGuardBackendKind { .kernel }
    public let netlink: WireGuardNetlink
    /// Peers a status reply may list beyond the most weft has configured: an adopted device (after a restart)
    /// holds the peers of a cluster as large as the gossip's default member cap.
    public static let peerMargin = 1024
    private let configuredPeers = Mutex(0)

    public init(netlink: WireGuardNetlink) {
        self.netlink = netlink
    }

    /// Resolves the `wireguard` family in `namespace` (nil: the process's own) and opens a socket there; without
    /// a kernel WireGuard, ``WireGuardError/kernelUnavailable(reason:)`` names the cause.
    public static func open(namespace: NetworkNamespace? = nil) throws(WireGuardError) -> KernelWireGuard {
        switch WireGuardFamily.resolve(namespace: namespace) {
        case .unavailable(let reason):
            throw .kernelUnavailable(reason: reason)
        case .resolved(let id):
            do { return KernelWireGuard(netlink: try .open(family: id, namespace: namespace)) } catch {
                throw .kernelUnavailable(reason: "cannot open a generic netlink socket: \(error)")
            }
        }
    }

    /// What a status reply may hold: the peers weft configured at most, plus ``peerMargin``.
    public var statusLimits: WireGuardDeviceDump.Limits {
        WireGuardDeviceDump.Limits(maximumPeers: configuredPeers.withLock { $0 } + Self.peerMargin)
    }

    /// Makes the interface's key, port and peers exactly `configuration` (`WGDEVICE_F_REPLACE_PEERS`).
    public func apply(_ configuration: WireGuardConfiguration, interface: String) throws(WireGuardError) {
        record(configuration.peers.count)
        try run(interface) { () throws(NetlinkError) in
            let messages = try WireGuardMessages.setDevice(configuration.kernelDevice(interface: interface), family: netlink.family)
            try netlink.perform(messages, command: "WG_CMD_SET_DEVICE")
        }
    }

    /// Updates the running device's peers in place, as ``UserspaceWireGuard/update(peers:present:keepaliveSeconds:interface:)``
    /// does: each wanted peer set (endpoint, keepalive, allowed IPs replaced), each peer in `present` and not
    /// wanted removed; the sessions of the peers kept survive.
    public func update(peers: [WireGuardPeer], present: [WireGuardKey], keepaliveSeconds: UInt16,
                       interface: String) throws(WireGuardError) {
        record(peers.count)
        let wanted = Set(peers.map(\.publicKey))
        let removing = present.filter { !wanted.contains($0) }.map(\.bytes)
        try run(interface) { () throws(NetlinkError) in
            let messages = try WireGuardMessages.updatePeers(
                interface: interface, peers: peers.map(Self.kernelPeer), keepaliveSeconds: keepaliveSeconds,
                removing: removing, family: netlink.family)
            try netlink.perform(messages, command: "WG_CMD_SET_DEVICE")
        }
    }

    /// Sets the key, and the port when given, leaving the peers as they are.
    public func setIdentity(keys: WireGuardKeyPair, listenPort: UInt16?, interface: String) throws(WireGuardError) {
        try run(interface) { () throws(NetlinkError) in
            let message = try WireGuardMessages.setIdentity(
                interface: interface, privateKey: keys.privateKey.bytes, listenPort: listenPort, family: netlink.family)
            try netlink.perform([message], command: "WG_CMD_SET_DEVICE")
        }
    }

    /// The device's port and peers, handshakes and byte counters included, from its `WG_CMD_GET_DEVICE` dump.
    public func status(interface: String) throws(WireGuardError) -> WireGuardStatus {
        let dump = try run(interface) { () throws(NetlinkError) in try netlink.device(interface: interface, limits: statusLimits) }
        return try Self.status(of: dump)
    }

    /// A dump as the driver reads every backend's status.
    static func status(of dump: WireGuardDeviceDump) throws(WireGuardError) -> WireGuardStatus {
        var status = WireGuardStatus(listenPort: dump.listenPort)
        for peer in dump.peers {
            guard let key = WireGuardKey(bytes: peer.publicKey) else { throw .malformedReply("a peer's public key is not 32 bytes") }
            status.peers.append(
                WireGuardStatus.Peer(
                    publicKey: key, endpoint: peer.endpoint.map { WireGuardEndpoint(address: $0, port: peer.endpointPort) },
                    allowedIPs: peer.allowedIPs, lastHandshakeSeconds: peer.lastHandshakeSeconds,
                    receivedBytes: peer.receivedBytes, transmittedBytes: peer.transmittedBytes))
        }
        return status
    }

    /// A peer as `WG_CMD_SET_DEVICE` takes it.
    static func kernelPeer(_ peer: WireGuardPeer) -> WireGuardMessages.Peer {
        WireGuardMessages.Peer(publicKey: peer.publicKey.bytes, endpoint: peer.endpoint.address, port: peer.endpoint.port,
                               allowedIPs: peer.allowedIPs)
    }

    private func record(_ peers: Int) {
        configuredPeers.withLock { $0 = max($0, peers) }
    }

    private func run<Value>(_ interface: String, _ body: () throws(NetlinkError) -> Value) throws(WireGuardError) -> Value {
        do { return try body() } catch { throw .kernel(interface: interface, error) }
    }
}
