/// An address with its prefix length, as assigned to an interface or handed over by Docker's IPAM
/// (`10.1.0.2/24`, `fd00:30::2/64`): one type for every family, typed by its address — `IPv4Interface` where
/// only IPv4 makes sense (Docker's `Address`), `IPInterface` where either does (netlink's address messages).
public struct InterfaceAddress<Address: InterfaceAddressFamily>: Hashable, Sendable, CustomStringConvertible {
    public let address: Address
    /// 0 to the address's bit width.
    public let prefixLength: Int

    public init?(address: Address, prefixLength: Int) {
        guard (0...address.bitWidth).contains(prefixLength) else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `ADDRESS/PREFIX`; nil for anything else (a bare address too: the prefix is part of the value).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count <= 3, let address = Address(String(parts[0])), let prefix = Int(parts[1])
        else { return nil }
        self.init(address: address, prefixLength: prefix)
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

/// An address type an ``InterfaceAddress`` can carry.
public protocol InterfaceAddressFamily: Hashable, Sendable, CustomStringConvertible {
    /// The address's length in bits: the longest prefix it can have.
    var bitWidth: Int { get }
    init?(_ text: String)
}

public typealias IPv4Interface = InterfaceAddress<IPv4Address>
public typealias IPv6Interface = InterfaceAddress<IPv6Address>
/// An interface address of either family.
public typealias IPInterface = InterfaceAddress<IPAddress>

extension IPv4Address: InterfaceAddressFamily {
    public var bitWidth: Int { 32 }
}

extension IPv6Address: InterfaceAddressFamily {
    public var bitWidth: Int { 128 }
}

extension IPAddress: InterfaceAddressFamily {
    public var bitWidth: Int { isIPv4 ? 32 : 128 }
}
