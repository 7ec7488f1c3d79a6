import Foundation
import Netlink

/// weft's one WireGuard interface (`weft-wg`) run by the kernel: an rtnetlink link of kind `wireguard`, its key
/// and peers set over generic netlink (``KernelWireGuard``). No process is started. The kernel keeps the device
/// and its sessions when weft dies, so a `weft-wg` of kind `wireguard` found at start is adopted (key and port
/// set, peers kept); any other link by that name is deleted and replaced.
public final class KernelWireGuardDevice: WireGuardInterface {
    public let name: String
    public let backend: KernelWireGuard
    private let linkSetup: WireGuardLinkSetup

    /// - Parameters:
    ///   - ipCommand: iproute2's `ip`, with any prefix that places it (`ip -n …` in tests): the fail-closed route.
    ///   - launch: starts the `ip` process (tests serialise their children's starts).
    public init(name: String = UserspaceWireGuardDevice.defaultName, backend: KernelWireGuard,
                ipCommand: [String] = ["/usr/sbin/ip"],
                launch: @escaping @Sendable (Process) throws -> Void = { try $0.run() }) {
        self.name = name
        self.backend = backend
        linkSetup = WireGuardLinkSetup(name: name, ipCommand: ipCommand, launch: launch)
    }

    @discardableResult
    public func bringUp(_ configuration: WireGuardConfiguration, tunnel: IPv4Address, mtu: UInt32,
                        session: NetlinkSession) throws(WireGuardDeviceError) -> UserspaceWireGuardDevice.Origin {
        let existing: Link?
        do { existing = try session.link(.name(name)) } catch { throw .netlink(interface: name, error) }
        var origin = UserspaceWireGuardDevice.Origin.started
        var adopted: WireGuardStatus?
        if let existing {
            if existing.kind == LinkKind.wireguard.kernelName, let status = try? backend.status(interface: name) {
                adopted = status
                origin = .adopted
            } else {
                do { try session.perform(.deleteLink(.name(name))) } catch { throw .netlink(interface: name, error) }
                origin = .replaced
            }
        }
        if adopted == nil {
            let spec = LinkSpec(name: name, kind: .wireguard, mtu: mtu)
            do { try session.perform(.createLink(spec)) } catch { throw .netlink(interface: name, error) }
        }
        try linkSetup.configure(configuration, adopted: adopted, backend: backend, tunnel: tunnel, mtu: mtu, session: session)
        return origin
    }

    public func status() throws(WireGuardError) -> WireGuardStatus { try backend.status(interface: name) }

    public func update(peers: [WireGuardPeer], keepaliveSeconds: UInt16) throws(WireGuardError) {
        let present = try backend.status(interface: name).peers.map(\.publicKey)
        try backend.update(peers: peers, present: present, keepaliveSeconds: keepaliveSeconds, interface: name)
    }

    public func setIdentity(_ keys: WireGuardKeyPair) throws(WireGuardError) {
        try backend.setIdentity(keys: keys, listenPort: nil, interface: name)
    }

    /// Removes the link (the kernel drops its peers and sessions with it), then the fail-closed route.
    public func tearDown(session: NetlinkSession) {
        if (try? session.link(.name(name))) != nil { try? session.perform(.deleteLink(.name(name))) }
        linkSetup.removeRoute()
    }
}
