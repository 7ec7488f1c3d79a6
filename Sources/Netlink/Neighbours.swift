/// Neighbour-table states (`NUD_*`), as a set since the kernel reports them as bits.
public struct NeighbourState: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let incomplete = NeighbourState(rawValue: 0x01)
    public static let reachable = NeighbourState(rawValue: 0x02)
    public static let stale = NeighbourState(rawValue: 0x04)
    public static let delay = NeighbourState(rawValue: 0x08)
    public static let probe = NeighbourState(rawValue: 0x10)
    public static let failed = NeighbourState(rawValue: 0x20)
    public static let noARP = NeighbourState(rawValue: 0x40)
    public static let permanent = NeighbourState(rawValue: 0x80)

    private static let names: [(NeighbourState, String)] = [
        (.incomplete, "incomplete"), (.reachable, "reachable"), (.stale, "stale"), (.delay, "delay"),
        (.probe, "probe"), (.failed, "failed"), (.noARP, "noarp"), (.permanent, "permanent"),
    ]

    public var description: String {
        let parts = Self.names.filter { contains($0.0) }.map(\.1)
        return parts.isEmpty ? "none" : parts.joined(separator: ",")
    }
}

/// Which forwarding table an FDB entry lives in.
public enum FDBTable: Hashable, Sendable {
    /// The device's own table (`NTF_SELF`): for a VXLAN device, MAC → remote VTEP.
    case device
    /// The bridge's table (`NTF_MASTER`), where learned entries of its ports live.
    case bridge
}

/// A forwarding-database entry: which VTEP (or bridge port) a MAC address is reached through.
public struct FDBEntry: Hashable, Sendable, CustomStringConvertible {
    public var mac: MACAddress
    public var device: LinkReference
    /// The remote VTEP, for entries of a VXLAN device.
    public var destination: IPAddress?
    /// The remote UDP port, for an entry that sends somewhere other than the device's port (a relay); nil for
    /// the device's own port (dumps leave it out then).
    public var port: UInt16?
    public var table: FDBTable
    public var state: NeighbourState
    /// The bridge the device is a port of, as dumps report it for bridge-table entries.
    public var master: Int32?

    public init(
        mac: MACAddress, device: LinkReference, destination: IPAddress? = nil, table: FDBTable = .device,
        state: NeighbourState = .permanent, master: Int32? = nil, port: UInt16? = nil
    ) {
        self.mac = mac
        self.device = device
        self.destination = destination
        self.port = port
        self.table = table
        self.state = state
        self.master = master
    }

    /// A permanent entry in a VXLAN device's own table sending `mac` to the VTEP `destination`.
    /// With `MACAddress.zero` it is a head-end replication entry for broadcast and multicast.
    public static func vtep(
        _ mac: MACAddress, via destination: IPAddress, port: UInt16? = nil, on device: LinkReference
    ) -> FDBEntry {
        FDBEntry(mac: mac, device: device, destination: destination, port: port)
    }

    public var description: String {
        var text = "fdb \(mac) dev \(device)"
        if let destination { text += " dst \(destination)" }
        if let port { text += " port \(port)" }
        return text + (table == .device ? " self" : " master")
    }
}

/// A neighbour (ARP/NDP) entry: which MAC address an IP address has on a device.
public struct NeighbourEntry: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var mac: MACAddress?
    public var device: LinkReference
    public var state: NeighbourState

    public init(address: IPAddress, mac: MACAddress?, device: LinkReference, state: NeighbourState = .permanent) {
        self.address = address
        self.mac = mac
        self.device = device
        self.state = state
    }

    public var description: String { "neighbour \(address) dev \(device)" }
}
