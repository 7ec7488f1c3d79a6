import Netlink

/// Where a VXLAN device sends a frame: a host's VTEP at the device's own port (direct), or a relay host's VTEP at
/// the relay port (which forwards it on to the host).
public struct ForwardingTarget: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    /// nil: the device's own port (a direct path).
    public var port: UInt16?

    public init(address: IPAddress, port: UInt16? = nil) {
        self.address = address
        self.port = port
    }

    /// The target an FDB entry of a VXLAN device names.
    public init?(_ entry: FDBEntry) {
        guard let destination = entry.destination else { return nil }
        self.init(address: destination, port: entry.port)
    }

    public static func < (lhs: ForwardingTarget, rhs: ForwardingTarget) -> Bool {
        (lhs.address, lhs.port ?? 0) < (rhs.address, rhs.port ?? 0)
    }

    public var description: String { port.map { "\(address):\($0)" } ?? "\(address)" }
}

/// Which remote hosts this host reaches through a relay, and the relay port: everything else is direct.
public struct RelayRoutes: Sendable, Equatable {
    /// Remote host's VTEP → the relay host's VTEP.
    public var via: [IPAddress: IPAddress]
    public var port: UInt16

    public init(via: [IPAddress: IPAddress] = [:], port: UInt16 = RelayRoutes.defaultPort) {
        self.via = via
        self.port = port
    }

    /// No relay at all.
    public static let direct = RelayRoutes()
    /// The relay port when none is configured (`--relay-port`).
    public static let defaultPort: UInt16 = 4790

    /// Where frames for `vtep` go.
    public func target(for vtep: IPAddress) -> ForwardingTarget {
        if let relay = via[vtep], relay != vtep { ForwardingTarget(address: relay, port: port) } else { ForwardingTarget(address: vtep) }
    }
}
