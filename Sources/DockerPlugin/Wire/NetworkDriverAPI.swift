// Wire types of Docker's remote NetworkDriver API (Docker 20.10), one per request and reply body.
// Member names follow Docker's JSON keys exactly (PascalCase, case-sensitive). Maps and arrays that Docker may send
// as `null` or leave out decode to empty values; identifiers are required and must not be empty.

/// Whether a driver's networks are local to one host or shared across the swarm.
public enum DriverScope: String, Sendable, Equatable, Codable {
    case local
    case global
}

/// Reply to `NetworkDriver.GetCapabilities` (empty request body).
public struct NetworkDriverCapabilities: Sendable, Equatable, Codable {
    /// Where network state lives. Anything but `local`/`global` makes Docker refuse the driver.
    public var scope: DriverScope
    /// Where connectivity reaches; omitted means the same as `scope`.
    public var connectivityScope: DriverScope?

    public init(scope: DriverScope, connectivityScope: DriverScope? = nil) {
        self.scope = scope
        self.connectivityScope = connectivityScope
    }

    enum CodingKeys: String, CodingKey {
        case scope = "Scope"
        case connectivityScope = "ConnectivityScope"
    }
}

/// One address family's IPAM result, as Docker passes it to CreateNetwork and AllocateNetwork.
/// `Pool`, `Gateway` and `AuxAddresses` values are CIDR strings (`"10.0.0.1/24"`); absent members stay `nil`.
public struct IPAMData: Sendable, Equatable, Codable {
    public var addressSpace: String?
    public var pool: String?
    public var gateway: String?
    public var auxAddresses: [String: String]?

    public init(addressSpace: String? = nil, pool: String? = nil, gateway: String? = nil,
                auxAddresses: [String: String]? = nil)
    {
        self.addressSpace = addressSpace
        self.pool = pool
        self.gateway = gateway
        self.auxAddresses = auxAddresses
    }

    enum CodingKeys: String, CodingKey {
        case addressSpace = "AddressSpace"
        case pool = "Pool"
        case gateway = "Gateway"
        case auxAddresses = "AuxAddresses"
    }
}

/// `NetworkDriver.CreateNetwork`: a network was created on this host.
public struct CreateNetworkRequest: Sendable, Equatable, Codable {
    public var networkID: String
    /// `com.docker.network.enable_ipv6`, `com.docker.network.generic` (the `-o` options), `…internal`.
    public var options: DriverOptions
    public var ipv4Data: [IPAMData]
    public var ipv6Data: [IPAMData]

    public init(networkID: String, options: DriverOptions = DriverOptions(), ipv4Data: [IPAMData] = [],
                ipv6Data: [IPAMData] = [])
    {
        self.networkID = networkID
        self.options = options
        self.ipv4Data = ipv4Data
        self.ipv6Data = ipv6Data
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        networkID = try container.decodeIdentifier(forKey: .networkID)
        options = try container.decodeOptions(forKey: .options)
        ipv4Data = try container.decode([IPAMData].self, forKey: .ipv4Data, default: [])
        ipv6Data = try container.decode([IPAMData].self, forKey: .ipv6Data, default: [])
    }

    enum CodingKeys: String, CodingKey {
        case networkID = "NetworkID"
        case options = "Options"
        case ipv4Data = "IPv4Data"
        case ipv6Data = "IPv6Data"
    }
}

/// A request that names only a network: `DeleteNetwork`, `FreeNetwork`.
public struct NetworkReference: Sendable, Equatable, Codable {
    public var networkID: String

    public init(networkID: String) {
        self.networkID = networkID
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        networkID = try container.decodeIdentifier(forKey: .networkID)
    }

    enum CodingKeys: String, CodingKey {
        case networkID = "NetworkID"
    }
}

/// `NetworkDriver.DeleteNetwork`. Docker only logs its failure.
public typealias DeleteNetworkRequest = NetworkReference
/// `NetworkDriver.FreeNetwork` (swarm manager only).
public typealias FreeNetworkRequest = NetworkReference

/// A request that names an endpoint of a network: `EndpointOperInfo`, `DeleteEndpoint`, `Leave`,
/// `RevokeExternalConnectivity`.
public struct EndpointReference: Sendable, Equatable, Codable {
    public var networkID: String
    public var endpointID: String

    public init(networkID: String, endpointID: String) {
        self.networkID = networkID
        self.endpointID = endpointID
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        networkID = try container.decodeIdentifier(forKey: .networkID)
        endpointID = try container.decodeIdentifier(forKey: .endpointID)
    }

    enum CodingKeys: String, CodingKey {
        case networkID = "NetworkID"
        case endpointID = "EndpointID"
    }
}

public typealias EndpointOperInfoRequest = EndpointReference
public typealias DeleteEndpointRequest = EndpointReference
public typealias LeaveRequest = EndpointReference
public typealias RevokeExternalConnectivityRequest = EndpointReference

/// The endpoint's interface as Docker sends it in CreateEndpoint: each member CIDR or MAC, or `""` when unset.
public struct EndpointInterface: Sendable, Equatable, Codable {
    public var address: String
    public var addressIPv6: String
    public var macAddress: String

    public init(address: String = "", addressIPv6: String = "", macAddress: String = "") {
        self.address = address
        self.addressIPv6 = addressIPv6
        self.macAddress = macAddress
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        address = try container.decode(String.self, forKey: .address, default: "")
        addressIPv6 = try container.decode(String.self, forKey: .addressIPv6, default: "")
        macAddress = try container.decode(String.self, forKey: .macAddress, default: "")
    }

    enum CodingKeys: String, CodingKey {
        case address = "Address"
        case addressIPv6 = "AddressIPv6"
        case macAddress = "MacAddress"
    }
}

/// `NetworkDriver.CreateEndpoint`.
public struct CreateEndpointRequest: Sendable, Equatable, Codable {
    public var networkID: String
    public var endpointID: String
    /// Addresses assigned by IPAM, and the MAC when the user or IPAM chose one.
    public var interface: EndpointInterface
    /// Port mappings, exposed ports, DNS servers and the endpoint's driver options.
    public var options: DriverOptions

    public init(networkID: String, endpointID: String, interface: EndpointInterface = EndpointInterface(),
                options: DriverOptions = DriverOptions())
    {
        self.networkID = networkID
        self.endpointID = endpointID
        self.interface = interface
        self.options = options
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        networkID = try container.decodeIdentifier(forKey: .networkID)
        endpointID = try container.decodeIdentifier(forKey: .endpointID)
        interface = try container.decode(EndpointInterface.self, forKey: .interface, default: EndpointInterface())
        options = try container.decodeOptions(forKey: .options)
    }

    enum CodingKeys: String, CodingKey {
        case networkID = "NetworkID"
        case endpointID = "EndpointID"
        case interface = "Interface"
        case options = "Options"
    }
}

/// What the driver fills in for an endpoint. Only members that were empty in the request may be set: Docker
/// fails the endpoint if the driver returns one it already had, even with the same value.
public struct EndpointInterfaceUpdate: Sendable, Equatable, Codable {
    public var address: String?
    public var addressIPv6: String?
    public var macAddress: String?

    public init(address: String? = nil, addressIPv6: String? = nil, macAddress: String? = nil) {
        self.address = address
        self.addressIPv6 = addressIPv6
        self.macAddress = macAddress
    }

    enum CodingKeys: String, CodingKey {
        case address = "Address"
        case addressIPv6 = "AddressIPv6"
        case macAddress = "MacAddress"
    }
}

/// Reply to CreateEndpoint: `{}` when the driver adds nothing, otherwise `{"Interface":{…}}`.
public struct CreateEndpointResponse: Sendable, Equatable, Codable {
    public var interface: EndpointInterfaceUpdate?

    public init(interface: EndpointInterfaceUpdate? = nil) {
        self.interface = interface
    }

    enum CodingKeys: String, CodingKey {
        case interface = "Interface"
    }
}

/// Reply to EndpointOperInfo: `{"Value":{…}}`, informational only. It must succeed, or `docker run` fails.
public struct EndpointOperInfoResponse: Sendable, Equatable, Codable {
    public var value: [String: JSONValue]

    public init(value: [String: JSONValue] = [:]) {
        self.value = value
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        value = try container.decode([String: JSONValue].self, forKey: .value, default: [:])
    }

    enum CodingKeys: String, CodingKey {
        case value = "Value"
    }
}

/// `NetworkDriver.Join`: attach an endpoint to a container's sandbox.
public struct JoinRequest: Sendable, Equatable, Codable {
    public var networkID: String
    public var endpointID: String
    /// The sandbox's netns path; the file may not exist yet when Join arrives.
    public var sandboxKey: String
    /// The sandbox labels: port mappings, exposed ports, legacy links.
    public var options: DriverOptions

    public init(networkID: String, endpointID: String, sandboxKey: String = "",
                options: DriverOptions = DriverOptions())
    {
        self.networkID = networkID
        self.endpointID = endpointID
        self.sandboxKey = sandboxKey
        self.options = options
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        networkID = try container.decodeIdentifier(forKey: .networkID)
        endpointID = try container.decodeIdentifier(forKey: .endpointID)
        sandboxKey = try container.decode(String.self, forKey: .sandboxKey, default: "")
        options = try container.decodeOptions(forKey: .options)
    }

    enum CodingKeys: String, CodingKey {
        case networkID = "NetworkID"
        case endpointID = "EndpointID"
        case sandboxKey = "SandboxKey"
        case options = "Options"
    }
}

/// The host-side link Docker moves into the container (`SrcName`) and the name prefix it gets there.
public struct InterfaceName: Sendable, Equatable, Codable {
    public var srcName: String
    public var dstPrefix: String

    public init(srcName: String, dstPrefix: String = "eth") {
        self.srcName = srcName
        self.dstPrefix = dstPrefix
    }

    enum CodingKeys: String, CodingKey {
        case srcName = "SrcName"
        case dstPrefix = "DstPrefix"
    }
}

/// A route Docker adds inside the container after Join.
public struct StaticRoute: Sendable, Equatable, Codable {
    /// `0`: via `NextHop`; `1`: on-link (connected), `NextHop` ignored.
    public enum RouteType: Int, Sendable, Equatable, Codable {
        case nextHop = 0
        case connected = 1
    }

    /// CIDR.
    public var destination: String
    public var routeType: RouteType
    /// A bare IP, for `nextHop` routes.
    public var nextHop: String?

    public init(destination: String, routeType: RouteType, nextHop: String? = nil) {
        self.destination = destination
        self.routeType = routeType
        self.nextHop = nextHop
    }

    enum CodingKeys: String, CodingKey {
        case destination = "Destination"
        case routeType = "RouteType"
        case nextHop = "NextHop"
    }
}

/// Reply to Join. `Gateway`/`GatewayIPv6` are bare IPs (not CIDR, unlike IPAM's gateway).
public struct JoinResponse: Sendable, Equatable, Codable {
    public var interfaceName: InterfaceName?
    public var gateway: String?
    public var gatewayIPv6: String?
    public var staticRoutes: [StaticRoute]?
    /// `true` stops Docker from adding a `docker_gwbridge` interface when no gateway is returned.
    public var disableGatewayService: Bool?

    public init(interfaceName: InterfaceName? = nil, gateway: String? = nil, gatewayIPv6: String? = nil,
                staticRoutes: [StaticRoute]? = nil, disableGatewayService: Bool? = nil)
    {
        self.interfaceName = interfaceName
        self.gateway = gateway
        self.gatewayIPv6 = gatewayIPv6
        self.staticRoutes = staticRoutes
        self.disableGatewayService = disableGatewayService
    }

    enum CodingKeys: String, CodingKey {
        case interfaceName = "InterfaceName"
        case gateway = "Gateway"
        case gatewayIPv6 = "GatewayIPv6"
        case staticRoutes = "StaticRoutes"
        case disableGatewayService = "DisableGatewayService"
    }
}

/// `NetworkDriver.ProgramExternalConnectivity`: the endpoint became its sandbox's gateway endpoint.
public struct ProgramExternalConnectivityRequest: Sendable, Equatable, Codable {
    public var networkID: String
    public var endpointID: String
    /// The sandbox labels, as in Join (port mappings live here).
    public var options: DriverOptions

    public init(networkID: String, endpointID: String, options: DriverOptions = DriverOptions()) {
        self.networkID = networkID
        self.endpointID = endpointID
        self.options = options
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        networkID = try container.decodeIdentifier(forKey: .networkID)
        endpointID = try container.decodeIdentifier(forKey: .endpointID)
        options = try container.decodeOptions(forKey: .options)
    }

    enum CodingKeys: String, CodingKey {
        case networkID = "NetworkID"
        case endpointID = "EndpointID"
        case options = "Options"
    }
}

/// `NetworkDriver.DiscoverNew` / `DiscoverDelete`. Docker forwards only node discovery (type 1).
public struct DiscoveryNotification: Sendable, Equatable, Codable {
    /// 1 = node discovery; Docker drops the other types before they reach a remote driver.
    public var discoveryType: Int
    /// For node discovery: `{"Address", "BindAddress", "Self"}`.
    public var discoveryData: JSONValue

    public init(discoveryType: Int, discoveryData: JSONValue = .null) {
        self.discoveryType = discoveryType
        self.discoveryData = discoveryData
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        discoveryType = try container.decode(Int.self, forKey: .discoveryType)
        discoveryData = try container.decode(JSONValue.self, forKey: .discoveryData, default: .null)
    }

    /// The node-discovery payload, when this is one (`DiscoveryType` 1 with an object payload).
    public var node: NodeDiscovery? {
        guard discoveryType == NodeDiscovery.discoveryType, let data = discoveryData.objectValue else { return nil }
        return NodeDiscovery(
            address: data["Address"]?.stringValue ?? "",
            bindAddress: data["BindAddress"]?.stringValue ?? "",
            isSelf: data["Self"]?.boolValue ?? false)
    }

    enum CodingKeys: String, CodingKey {
        case discoveryType = "DiscoveryType"
        case discoveryData = "DiscoveryData"
    }
}

/// A node announced through DiscoverNew: in swarm mode, this node's advertise (`Address`) and bind address.
public struct NodeDiscovery: Sendable, Equatable {
    public static let discoveryType = 1

    public var address: String
    public var bindAddress: String
    public var isSelf: Bool

    public init(address: String, bindAddress: String, isSelf: Bool) {
        self.address = address
        self.bindAddress = bindAddress
        self.isSelf = isSelf
    }
}

/// `NetworkDriver.AllocateNetwork` (swarm manager only). Re-sent for every network on each leader change.
public struct AllocateNetworkRequest: Sendable, Equatable, Codable {
    public var networkID: String
    /// The spec's `-o` options merged with the previous reply's options.
    public var options: [String: String]
    public var ipv4Data: [IPAMData]
    public var ipv6Data: [IPAMData]

    public init(networkID: String, options: [String: String] = [:], ipv4Data: [IPAMData] = [],
                ipv6Data: [IPAMData] = [])
    {
        self.networkID = networkID
        self.options = options
        self.ipv4Data = ipv4Data
        self.ipv6Data = ipv6Data
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        networkID = try container.decodeIdentifier(forKey: .networkID)
        options = try container.decode([String: String].self, forKey: .options, default: [:])
        ipv4Data = try container.decode([IPAMData].self, forKey: .ipv4Data, default: [])
        ipv6Data = try container.decode([IPAMData].self, forKey: .ipv6Data, default: [])
    }

    enum CodingKeys: String, CodingKey {
        case networkID = "NetworkID"
        case options = "Options"
        case ipv4Data = "IPv4Data"
        case ipv6Data = "IPv6Data"
    }
}

/// Reply to AllocateNetwork: options every worker receives in CreateNetwork's `com.docker.network.generic`.
public struct AllocateNetworkResponse: Sendable, Equatable, Codable {
    public var options: [String: String]

    public init(options: [String: String] = [:]) {
        self.options = options
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        options = try container.decode([String: String].self, forKey: .options, default: [:])
    }

    enum CodingKeys: String, CodingKey {
        case options = "Options"
    }
}
