// Wire types of Docker's remote IpamDriver API (Docker 20.10). Member names follow Docker's JSON keys exactly.
// Error replies use `{"Err": …}` with a non-200 status, which Docker reads for both driver interfaces.

/// Reply to `IpamDriver.GetCapabilities` (empty request body).
public struct IpamCapabilities: Sendable, Equatable, Codable {
    /// Ask Docker to generate a MAC and pass it in RequestAddress options.
    public var requiresMACAddress: Bool
    /// Ask Docker to replay pool and address requests of local networks at daemon start.
    public var requiresRequestReplay: Bool

    public init(requiresMACAddress: Bool = false, requiresRequestReplay: Bool = false) {
        self.requiresMACAddress = requiresMACAddress
        self.requiresRequestReplay = requiresRequestReplay
    }

    enum CodingKeys: String, CodingKey {
        case requiresMACAddress = "RequiresMACAddress"
        case requiresRequestReplay = "RequiresRequestReplay"
    }
}

/// Reply to `IpamDriver.GetDefaultAddressSpaces` (empty request body). Docker echoes these names back as
/// RequestPool's `AddressSpace`.
public struct DefaultAddressSpaces: Sendable, Equatable, Codable {
    public var local: String
    public var global: String

    public init(local: String, global: String) {
        self.local = local
        self.global = global
    }

    enum CodingKeys: String, CodingKey {
        case local = "LocalDefaultAddressSpace"
        case global = "GlobalDefaultAddressSpace"
    }
}

/// `IpamDriver.RequestPool`.
public struct RequestPoolRequest: Sendable, Equatable, Codable {
    public var addressSpace: String
    /// `--subnet` in CIDR form, or `""` for any pool.
    public var pool: String
    /// `--ip-range` in CIDR form, or `""`.
    public var subPool: String
    /// `--ipam-opt` options (`null` when none).
    public var options: [String: String]
    /// `true` for the IPv6 pass of an `--ipv6` network.
    public var v6: Bool

    public init(addressSpace: String = "", pool: String = "", subPool: String = "", options: [String: String] = [:],
                v6: Bool = false)
    {
        self.addressSpace = addressSpace
        self.pool = pool
        self.subPool = subPool
        self.options = options
        self.v6 = v6
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        addressSpace = try container.decode(String.self, forKey: .addressSpace, default: "")
        pool = try container.decode(String.self, forKey: .pool, default: "")
        subPool = try container.decode(String.self, forKey: .subPool, default: "")
        options = try container.decode([String: String].self, forKey: .options, default: [:])
        v6 = try container.decode(Bool.self, forKey: .v6, default: false)
    }

    enum CodingKeys: String, CodingKey {
        case addressSpace = "AddressSpace"
        case pool = "Pool"
        case subPool = "SubPool"
        case options = "Options"
        case v6 = "V6"
    }
}

/// Reply to RequestPool. `Pool` is CIDR. A `com.docker.network.gateway` entry in `Data` (CIDR) would make Docker
/// skip the gateway RequestAddress.
public struct RequestPoolResponse: Sendable, Equatable, Codable {
    public var poolID: String
    public var pool: String
    public var data: [String: String]

    public init(poolID: String, pool: String, data: [String: String] = [:]) {
        self.poolID = poolID
        self.pool = pool
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case poolID = "PoolID"
        case pool = "Pool"
        case data = "Data"
    }
}

/// `IpamDriver.ReleasePool`. Docker only logs its failure.
public struct ReleasePoolRequest: Sendable, Equatable, Codable {
    public var poolID: String

    public init(poolID: String) {
        self.poolID = poolID
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        poolID = try container.decodeIdentifier(forKey: .poolID)
    }

    enum CodingKeys: String, CodingKey {
        case poolID = "PoolID"
    }
}

/// `IpamDriver.RequestAddress`.
public struct RequestAddressRequest: Sendable, Equatable, Codable {
    public var poolID: String
    /// A bare IP (`--ip`, `--gateway`, `--aux-address`, replay, swarm) or `""` for any free address.
    public var address: String
    /// `RequestAddressType: com.docker.network.gateway` for the gateway; `null` otherwise (or a MAC).
    public var options: [String: String]

    public init(poolID: String, address: String = "", options: [String: String] = [:]) {
        self.poolID = poolID
        self.address = address
        self.options = options
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        poolID = try container.decodeIdentifier(forKey: .poolID)
        address = try container.decode(String.self, forKey: .address, default: "")
        options = try container.decode([String: String].self, forKey: .options, default: [:])
    }

    /// The option key that marks a gateway request.
    public static let requestAddressTypeKey = "RequestAddressType"
    /// Its value for a gateway request.
    public static let gatewayRequestType = "com.docker.network.gateway"

    /// Whether this asks for the network's gateway.
    public var isGatewayRequest: Bool {
        options[Self.requestAddressTypeKey] == Self.gatewayRequestType
    }

    enum CodingKeys: String, CodingKey {
        case poolID = "PoolID"
        case address = "Address"
        case options = "Options"
    }
}

/// Reply to RequestAddress. `Address` must be CIDR (`10.1.0.2/24`).
public struct RequestAddressResponse: Sendable, Equatable, Codable {
    public var address: String
    public var data: [String: String]

    public init(address: String, data: [String: String] = [:]) {
        self.address = address
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case address = "Address"
        case data = "Data"
    }
}

/// `IpamDriver.ReleaseAddress`. Docker only logs its failure.
public struct ReleaseAddressRequest: Sendable, Equatable, Codable {
    public var poolID: String
    /// A bare IP.
    public var address: String

    public init(poolID: String, address: String) {
        self.poolID = poolID
        self.address = address
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        poolID = try container.decodeIdentifier(forKey: .poolID)
        address = try container.decodeIdentifier(forKey: .address)
    }

    enum CodingKeys: String, CodingKey {
        case poolID = "PoolID"
        case address = "Address"
    }
}
