/// An IPv6 subnet in CIDR form, such as `fd00:30::/64`, always with its host bits clear.
public struct IPv6Subnet: Hashable, Sendable {
    /// The first address of the subnet (host bits zero).
    public let network: IPv6Address
    /// 0–128.
    public let prefixLength: Int

    /// Makes a subnet; throws when host bits are set or the prefix is out of range.
    public init(network: IPv6Address, prefixLength: Int) throws(IPAddressParseError) {
        let text = "\(network)/\(prefixLength)"
        guard (0...128).contains(prefixLength) else { throw .invalidIPv6Subnet(text) }
        let mask = Self.mask(prefixLength)
        guard network.value & ~mask == 0 else {
            throw .hostBitsSet(text, suggestion: "\(IPv6Address(network.value & mask))/\(prefixLength)")
        }
        self.network = network
        self.prefixLength = prefixLength
    }

    /// Parses CIDR notation (`fd00:30::/64`).
    public init(parsing text: String) throws(IPAddressParseError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv6Address(String(parts[0])),
            !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
            let prefix = Int(parts[1]), (0...128).contains(prefix)
        else { throw .invalidIPv6Subnet(text) }
        do {
            try self.init(network: address, prefixLength: prefix)
        } catch .hostBitsSet(_, let suggestion) {
            throw .hostBitsSet(text, suggestion: suggestion)
        }
    }

    public var mask: UInt128 { Self.mask(prefixLength) }

    /// The number of host bits (128 − prefix).
    public var hostBits: Int { 128 - prefixLength }

    /// The last address of the subnet.
    public var lastAddress: IPv6Address { IPv6Address(network.value | ~mask) }

    /// Whether `address` lies in this subnet.
    public func contains(_ address: IPv6Address) -> Bool {
        address.value & mask == network.value
    }

    /// Whether `other` lies entirely inside this subnet.
    public func contains(_ other: IPv6Subnet) -> Bool {
        other.prefixLength >= prefixLength && contains(other.network)
    }

    /// Whether the two subnets share any address.
    public func overlaps(_ other: IPv6Subnet) -> Bool {
        contains(other) || other.contains(self)
    }

    /// The address with this subnet's prefix length, as Docker expects (`fd00:30::5/64`).
    public func cidr(for address: IPv6Address) -> String {
        "\(address)/\(prefixLength)"
    }

    static func mask(_ prefixLength: Int) -> UInt128 {
        prefixLength == 0 ? 0 : UInt128.max << UInt128(128 - prefixLength)
    }
}

extension IPv6Subnet: CustomStringConvertible {
    public var description: String { "\(network)/\(prefixLength)" }
}

extension IPv6Subnet: TextCodable {}

/// A pool's subnet of either family, where records name pools of both (block claims).
public enum IPSubnet: Hashable, Sendable, CustomStringConvertible {
    case v4(IPv4Subnet)
    case v6(IPv6Subnet)

    /// Parses either CIDR form; IPv6 when the text has a colon.
    public init(parsing text: String) throws(IPAddressParseError) {
        self = text.contains(":") ? .v6(try IPv6Subnet(parsing: text)) : .v4(try IPv4Subnet(parsing: text))
    }

    public var description: String {
        switch self {
        case .v4(let subnet): subnet.description
        case .v6(let subnet): subnet.description
        }
    }
}

extension IPSubnet: TextCodable {}
