import Addressing

/// An address assigned to a link, as an address dump reports it.
public struct AssignedAddress: Hashable, Sendable {
    /// The link's index.
    public var device: Int32
    public var address: InterfaceAddress

    public init(device: Int32, address: InterfaceAddress) {
        self.device = device
        self.address = address
    }
}

/// An address with its prefix length, as assigned to an interface (`10.1.0.1/24`).
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var prefixLength: UInt8

    public init?(address: IPAddress, prefixLength: UInt8) {
        guard prefixLength <= (address.isIPv4 ? 32 : 128) else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `ADDRESS/PREFIX`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0])), let prefix = UInt8(parts[1]) else {
            return nil
        }
        self.init(address: address, prefixLength: prefix)
    }

    public var description: String { "\(address)/\(prefixLength)" }
}
