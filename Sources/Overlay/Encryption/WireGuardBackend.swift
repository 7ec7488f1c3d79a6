/// Configures weft's WireGuard interface. One protocol for the kernel's WireGuard (generic netlink), Debian's
/// `wireguard-go` (its UAPI socket) and the dry run (`wg set` lines), so the datapath does not care which.
public protocol WireGuardBackend: Sendable {
    var kind: WireGuardBackendKind { get }
    /// Makes the interface's key, port and peers exactly `configuration`.
    func apply(_ configuration: WireGuardConfiguration, interface: String) throws(WireGuardError)
    /// The interface's peers as the device reports them.
    func status(interface: String) throws(WireGuardError) -> WireGuardStatus
}

/// A backend that runs a real device: besides a whole configuration, it changes the key alone (a rotation, or an
/// adopted device whose peers keep their sessions) and the peers alone.
public protocol LiveWireGuardBackend: WireGuardBackend {
    /// Sets the private key, and the port when given, keeping the peers.
    func setIdentity(keys: WireGuardKeyPair, listenPort: UInt16?, interface: String) throws(WireGuardError)
    /// Brings the peers to `peers`; `present` are the public keys the device has now.
    func update(peers: [WireGuardPeer], present: [WireGuardKey], keepaliveSeconds: UInt16,
                interface: String) throws(WireGuardError)
}

/// Which WireGuard weft uses: `--wireguard auto|userspace|kernel`.
public enum WireGuardBackendKind: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The kernel's when it has WireGuard, else userspace.
    case auto
    case userspace
    case kernel
    case dryRun = "dry-run"

    public var description: String { rawValue }
}

import Netlink

/// Why configuring WireGuard failed; each case names the interface or the cause.
public enum WireGuardError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The UAPI socket could not be reached or broke (`action` says what weft was doing).
    case socket(path: String, action: String, errno: Int32)
    /// The device answered with a non-zero errno.
    case refused(errno: Int)
    case malformedReply(String)
    case unsupported(String)
    /// The kernel's WireGuard refused a request or sent a reply weft refuses (the error names the command, the
    /// errno and the kernel's extended-ack text).
    case kernel(interface: String, NetlinkError)
    /// The kernel has no WireGuard weft can use (the family does not resolve, or no generic-netlink socket).
    case kernelUnavailable(reason: String)

    public var description: String {
        switch self {
        case .socket(let path, let action, let code): "WireGuard socket \(path): cannot \(action) (errno \(code))"
        case .refused(let code): "WireGuard refused the configuration (errno \(code))"
        case .malformedReply(let reason): "WireGuard sent a malformed reply: \(reason)"
        case .unsupported(let reason): "WireGuard: \(reason)"
        case .kernel(let interface, let error): "kernel WireGuard interface \(interface): \(error)"
        case .kernelUnavailable(let reason): "kernel WireGuard unavailable: \(reason)"
        }
    }
}
