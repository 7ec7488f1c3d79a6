/// The `Options` map Docker sends with CreateNetwork, CreateEndpoint, Join and ProgramExternalConnectivity.
///
/// Docker sends it as an object, as `null`, or not at all; all three decode to an empty map. Values are arbitrary
/// JSON. The user's `-o key=value` options arrive as strings inside `com.docker.network.generic`.
public struct DriverOptions: Sendable, Equatable, Codable {
    /// Every option as received.
    public var values: [String: JSONValue]

    public init(_ values: [String: JSONValue] = [:]) {
        self.values = values
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        values = container.decodeNil() ? [:] : try container.decode([String: JSONValue].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }

    /// `com.docker.network.generic`: the user's `-o` options (network) or driver options (endpoint).
    public static let genericKey = "com.docker.network.generic"
    /// `com.docker.network.enable_ipv6`, always present in CreateNetwork.
    public static let enableIPv6Key = "com.docker.network.enable_ipv6"
    /// `com.docker.network.internal`, present (true) only for `--internal` networks.
    public static let internalKey = "com.docker.network.internal"

    /// The members of `com.docker.network.generic`, as received (empty when absent or not an object).
    public var generic: [String: JSONValue] {
        values[Self.genericKey]?.objectValue ?? [:]
    }

    /// The string-valued members of `com.docker.network.generic`: the user's `-o key=value` options.
    public var genericStrings: [String: String] {
        generic.compactMapValues(\.stringValue)
    }

    /// Whether the network was created with `--ipv6`.
    public var enableIPv6: Bool {
        values[Self.enableIPv6Key]?.boolValue ?? false
    }

    /// Whether the network was created with `--internal`.
    public var isInternal: Bool {
        values[Self.internalKey]?.boolValue ?? false
    }
}

extension KeyedDecodingContainer {
    /// Decodes an `Options` member that may be missing or `null`.
    func decodeOptions(forKey key: Key) throws -> DriverOptions {
        try decodeIfPresent(DriverOptions.self, forKey: key) ?? DriverOptions()
    }
}
