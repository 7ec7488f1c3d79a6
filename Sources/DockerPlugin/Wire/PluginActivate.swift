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

/// An empty JSON object, `{}`: the success reply of every call that returns nothing. Docker treats an empty
/// body as an error, so even these replies carry an object.
public struct EmptyResponse: Sendable, Equatable, Codable {
    public init() {}
}

/// The body of every error reply, `{"Err": "..."}`. Docker shows `Err` to the user, prefixed with the call name.
public struct ErrorResponse: Sendable, Equatable, Codable {
    public var err: String

    public init(_ err: String) {
        self.err = err
    }

    enum CodingKeys: String, CodingKey {
        case err = "Err"
    }
}
