/// An IPv4 subnet in CIDR form, such as `10.1.0.0/24`, always with its host bits clear.
///
/// Parsing refuses a subnet with host bits set (`10.1.0.5/24`) instead of silently masking it, because in a
/// `--subnet` it is almost always a typo, and the error names the subnet that was probably meant.
public struct IPv4Subnet: Hashable, Sendable {
    /// The first address of the subnet (host bits zero).
    public let network: IPv4Address
    /// The number of leading one bits in the mask, 0–32.
    public let prefixLength: Int

    /// Makes a subnet from its network address and prefix length; throws when host bits are set or the prefix
    /// is out of range.
    public init(network: IPv4Address, prefixLength: Int) throws(IPAddressParseError) {
        let text = "\(network)/\(prefixLength)"
        guard (0...32).contains(prefixLength) else { throw .invalidSubnet(text) }
        let mask = Self.mask(prefixLength)
        guard network.value & ~mask == 0 else {
            throw .hostBitsSet(text, suggestion: "\(IPv4Address(network.value & mask))/\(prefixLength)")
        }
        self.network = network
        self.prefixLength = prefixLength
    }

    /// Parses CIDR notation (`10.1.0.0/24`).
    public init(parsing text: String) throws(IPAddressParseError) {
        if text.contains(":") {
            throw .ipv6NotSupported(text)
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(String(parts[0])),
            !parts[1].isEmpty, parts[1].count <= 2, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
            let prefix = Int(parts[1]), (0...32).contains(prefix)
        else { throw .invalidSubnet(text) }
        do {
            try self.init(network: address, prefixLength: prefix)
        } catch .hostBitsSet(_, let suggestion) {
            throw .hostBitsSet(text, suggestion: suggestion)
        }
    }

    /// The subnet mask as a 32-bit value: `/24` is `0xFFFF_FF00`.
    public var mask: UInt32 { Self.mask(prefixLength) }

    /// How many addresses the subnet spans, network and broadcast included.
    public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }

    /// The last address of the subnet (the broadcast address when the subnet has one).
    public var lastAddress: IPv4Address { IPv4Address(network.value | ~mask) }

    /// Whether the subnet has addresses that can be handed out: a /31 or /32 has no network/broadcast pair
    /// to exclude, but it also leaves no room for a gateway plus an endpoint, so weft treats both as unusable.
    public var usableRange: ClosedRange<IPv4Address>? {
        guard prefixLength <= 30 else { return nil }
        return IPv4Address(network.value + 1)...IPv4Address(lastAddress.value - 1)
    }

    /// Whether `address` lies in this subnet (network and broadcast addresses included).
    public func contains(_ address: IPv4Address) -> Bool {
        address.value & mask == network.value
    }

    /// Whether `other` lies entirely inside this subnet.
    public func contains(_ other: IPv4Subnet) -> Bool {
        other.prefixLength >= prefixLength && contains(other.network)
    }

    /// Whether the two subnets share any address.
    public func overlaps(_ other: IPv4Subnet) -> Bool {
        contains(other) || other.contains(self)
    }

    /// The same address written with this subnet's prefix length, as Docker expects (`10.1.0.5/24`).
    public func cidr(for address: IPv4Address) -> String {
        "\(address)/\(prefixLength)"
    }

    static func mask(_ prefixLength: Int) -> UInt32 {
        prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength)
    }
}

extension IPv4Subnet: CustomStringConvertible {
    /// CIDR notation, e.g. `10.1.0.0/24`.
    public var description: String { "\(network)/\(prefixLength)" }
}

extension IPv4Subnet: TextCodable {}
