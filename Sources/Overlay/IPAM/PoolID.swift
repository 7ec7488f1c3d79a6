/// The opaque identifier Docker keeps for a pool and sends back with every address request.
///
/// It is derived from the pool's subnet (and `--ip-range`), so requesting the same subnet twice yields the same
/// ID, and an ID stays meaningful in logs and persisted state: `weft:10.1.0.0/24`, `weft:10.1.0.0/16:10.1.5.0/24`.
public struct PoolID: Hashable, Sendable, CustomStringConvertible {
    /// The identifier as Docker sees it.
    public let rawValue: String

    /// Wraps an identifier received from Docker (it may name no pool).
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The identifier of the pool for `subnet`, allocating only from `range` when one is given.
    public init(subnet: IPv4Subnet, range: IPv4Subnet?) {
        if let range {
            rawValue = "weft:\(subnet):\(range)"
        } else {
            rawValue = "weft:\(subnet)"
        }
    }

    /// The identifier of the IPv6 pool for `subnet` (`weft:fd00:30::/64`).
    public init(subnet6 subnet: IPv6Subnet) {
        rawValue = "weft:\(subnet)"
    }

    /// Whether the ID names an IPv6 pool: its subnet's address has colons (an IPv4 pool's ID has one only
    /// before an `--ip-range`, after the prefix).
    public var isIPv6: Bool { rawValue.dropFirst("weft:".count).prefix { $0 != "/" }.contains(":") }

    public var description: String { rawValue }
}

extension PoolID: Codable {
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension PoolID: CodingKeyRepresentable {
    /// Lets `[PoolID: V]` encode as an object keyed by the ID.
    public var codingKey: any CodingKey { AddressCodingKey(stringValue: rawValue) }

    public init?<T: CodingKey>(codingKey: T) {
        self.init(rawValue: codingKey.stringValue)
    }
}
