/// The answer to `POST /Plugin.Activate` (empty request body): which driver interfaces the plugin implements.
public struct PluginActivateResponse: Sendable, Equatable, Codable {
    /// Interface names, case-sensitive: `NetworkDriver`, `IpamDriver`.
    public var implements: [String]

    public init(implements: [String] = [Self.networkDriver, Self.ipamDriver]) {
        self.implements = implements
    }

    /// The name of the network-driver interface.
    public static let networkDriver = "NetworkDriver"
    /// The name of the IPAM-driver interface.
    public static let ipamDriver = "IpamDriver"

    enum CodingKeys: String, CodingKey {
        case implements = "Implements"
    }
}
