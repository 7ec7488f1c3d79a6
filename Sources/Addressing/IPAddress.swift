/// An IPv4 or IPv6 address: the one address type weft's modules share. Netlink writes it as the kernel's 4 or 16
/// network-order bytes, Gossip carries it for members, the cluster tables and the IPAM hand it around.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Builds an address from raw network-order bytes: 4 for IPv4, 16 for IPv6, nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4: self = .v4(IPv4Address(bytes: bytes)!)
        case 16: self = .v6(IPv6Address(bytes: bytes)!)
        default: return nil
        }
    }

    /// Parses either family's text form (IPv6 when the text has a colon), throwing what is wrong with `text`.
    public init(parsing text: String) throws(IPAddressParseError) {
        self = text.contains(":") ? .v6(try IPv6Address(parsing: text)) : .v4(try IPv4Address(parsing: text))
    }

    /// Parses dotted-quad IPv4 or textual IPv6; nil for anything else.
    public init?(_ text: String) {
        guard let address = try? IPAddress(parsing: text) else { return nil }
        self = address
    }

    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let address): address.bytes
        case .v6(let address): address.bytes
        }
    }

    public var isIPv4: Bool { if case .v4 = self { true } else { false } }

    /// The IPv4 address, or nil for an IPv6 one.
    public var ipv4: IPv4Address? { if case .v4(let address) = self { address } else { nil } }

    /// The IPv6 address, or nil for an IPv4 one.
    public var ipv6: IPv6Address? { if case .v6(let address) = self { address } else { nil } }

    /// Dotted quad for IPv4, RFC 5952 text for IPv6.
    public var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }

    /// IPv4 addresses first, then by value.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let left), .v4(let right)): left < right
        case (.v6(let left), .v6(let right)): left < right
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }
}

extension IPAddress: TextCodable {}
