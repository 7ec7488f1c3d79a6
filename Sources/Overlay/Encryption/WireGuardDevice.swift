import Foundation
import Glibc
import Netlink
import Synchronization

/// weft's one WireGuard interface on this host (`weft-wg`), run by Debian's `wireguard-go` as weft's child: made
/// when the first encrypted network needs it, with the host's tunnel address, and removed on exit. An interface
/// left by an earlier weft (kill -9) is adopted when its UAPI socket answers, and replaced when it does not.
public final class UserspaceWireGuardDevice: Sendable {
    /// The interface's name on every host.
    public static let defaultName = "weft-wg"

    /// How the device was brought up.
    public enum Origin: String, Sendable, Equatable {
        case started
        case adopted
        /// A stale link (no daemon behind its socket) was deleted, then a new one started.
        case replaced
    }

    public let name: String
    public let backend: UserspaceWireGuard
    /// The `wireguard-go` command, with any prefix that places it (`ip netns exec …` in tests).
    private let command: [String]
    private let linkSetup: WireGuardLinkSetup
    private let launch: @Sendable (Process) throws -> Void
    private let child = Mutex<Process?>(nil)
    /// How long wireguard-go may take to open its UAPI socket.
    static let startTimeout: Duration = .seconds(10)

    /// - Parameters:
    ///   - command: `wireguard-go`'s path, after any prefix; `-f <name>` is appended (foreground: weft's child).
    ///   - ipCommand: iproute2's `ip`, with any prefix that places it (`ip -n …` in tests): the fail-closed route.
    ///   - launch: starts the process (tests serialise their children's starts).
    public init(name: String = defaultName, command: [String] = ["/usr/bin/wireguard-go"],
                ipCommand: [String] = ["/usr/sbin/ip"], backend: UserspaceWireGuard = UserspaceWireGuard(),
                launch: @escaping @Sendable (Process) throws -> Void = { try $0.run() }) {
        self.name = name
        self.command = command
        linkSetup = WireGuardLinkSetup(name: name, ipCommand: ipCommand, launch: launch)
        self.backend = backend
        self.launch = launch
    }

    /// Makes the interface exist with `configuration`, `tunnel` as its address in 100.64.0.0/10, `mtu`, and up.
    /// An adopted interface gets the key and port only: its peers stay, with their sessions.
    @discardableResult
    public func bringUp(_ configuration: WireGuardConfiguration, tunnel: IPv4Address, mtu: UInt32,
                        session: NetlinkSession) throws(WireGuardDeviceError) -> Origin {
        var origin = Origin.started
        let existing: Link?
        do { existing = try session.link(.name(name)) } catch { throw .netlink(interface: name, error) }
        var adoptedStatus: WireGuardStatus?
        if existing != nil {
            if let status = try? backend.status(interface: name) {
                adoptedStatus = status
                origin = .adopted
            } else {
                do { try session.perform(.deleteLink(.name(name))) } catch { throw .netlink(interface: name, error) }
                origin = .replaced
            }
        }
        if origin != .adopted { try start() }
        try linkSetup.configure(configuration, adopted: adoptedStatus, backend: backend, tunnel: tunnel, mtu: mtu, session: session)
        return origin
    }

    /// Sets a new private key, keeping the port and the peers (a key rotation).
    public func setIdentity(_ keys: WireGuardKeyPair) throws(WireGuardError) {
        try backend.setIdentity(keys: keys, listenPort: nil, interface: name)
    }

    /// The device's peers as it reports them (handshakes included).
    public func status() throws(WireGuardError) -> WireGuardStatus { try backend.status(interface: name) }

    /// Brings the running device's peers to `peers`, keeping the sessions of those already there.
    public func update(peers: [WireGuardPeer], keepaliveSeconds: UInt16) throws(WireGuardError) {
        let present = try backend.status(interface: name).peers.map(\.publicKey)
        try backend.update(peers: peers, present: present, keepaliveSeconds: keepaliveSeconds, interface: name)
    }

    /// Removes the interface (wireguard-go exits with it) and waits for weft's child, if any; then the
    /// fail-closed route, which is left in place when weft dies without tearing down.
    public func tearDown(session: NetlinkSession) {
        if (try? session.link(.name(name))) != nil { try? session.perform(.deleteLink(.name(name))) }
        defer { linkSetup.removeRoute() }
        guard let process = child.withLock({ process in defer { process = nil }; return process }) else { return }
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// A blackhole for 100.64.0.0/10 behind the interface's own route (the largest metric): should the interface
    /// vanish, VXLAN packets of encrypted networks are dropped, never sent in clear along a default route.
    public static let failClosedRoute = ["blackhole", "\(TunnelAddressing.prefix)/\(TunnelAddressing.prefixLength)", "metric", "4294967295"]

    private func start() throws(WireGuardDeviceError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst()) + ["-f", name]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try launch(process) } catch { throw .start(interface: name, reason: "\(command[0]): \(error)") }
        child.withLock { $0 = process }
        let socket = backend.socketPath(interface: name)
        let deadline = ContinuousClock.now + Self.startTimeout
        while access(socket, F_OK) != 0 || (try? backend.status(interface: name)) == nil {
            guard process.isRunning else {
                throw .start(interface: name, reason: "wireguard-go exited with status \(process.terminationStatus)")
            }
            guard ContinuousClock.now < deadline else {
                throw .start(interface: name, reason: "wireguard-go made no working socket at \(socket) in \(Self.startTimeout)")
            }
            usleep(20_000)
        }
    }
}

/// Why weft's WireGuard interface could not be brought up; each case names the interface.
public enum WireGuardDeviceError: Error, Sendable, CustomStringConvertible {
    case start(interface: String, reason: String)
    case configure(interface: String, WireGuardError)
    case netlink(interface: String, NetlinkError)
    /// The fail-closed route for the tunnel addresses could not be written.
    case route(reason: String)
    /// The filter of plaintext VXLAN for encrypted networks could not be written.
    case filter(reason: String)

    public var description: String {
        switch self {
        case .start(let interface, let reason): "WireGuard interface \(interface): cannot start wireguard-go: \(reason)"
        case .configure(let interface, let error): "WireGuard interface \(interface): \(error)"
        case .netlink(let interface, let error): "WireGuard interface \(interface): \(error)"
        case .route(let reason): "WireGuard: cannot write the blackhole route for the tunnel addresses: \(reason)"
        case .filter(let reason): "WireGuard: cannot write the filter of plaintext VXLAN for encrypted networks: \(reason)"
        }
    }
}
