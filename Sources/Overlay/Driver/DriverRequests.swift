import Netlink

/// A CreateNetwork request, in the domain's terms.
public struct NetworkCreation: Sendable, Equatable {
    public struct Pool: Sendable, Equatable {
        public var subnet: IPv4Subnet
        public var gateway: IPv4Address?

        public init(subnet: IPv4Subnet, gateway: IPv4Address?) {
            self.subnet = subnet
            self.gateway = gateway
        }
    }

    public var id: String
    /// The user's `-o key=value` options, parsed.
    public var options: NetworkOptions
    public var isInternal: Bool
    public var ipv6Requested: Bool
    public var ipv4Pools: [Pool]

    public init(id: String, options: NetworkOptions = NetworkOptions(), isInternal: Bool = false, ipv6Requested: Bool = false,
                ipv4Pools: [Pool]) {
        self.id = id
        self.options = options
        self.isInternal = isInternal
        self.ipv6Requested = ipv6Requested
        self.ipv4Pools = ipv4Pools
    }
}

/// A CreateEndpoint request: the address Docker's IPAM assigned and the MAC, if Docker chose one; parsed from
/// Docker's strings at the plugin's edge.
public struct EndpointCreation: Sendable, Equatable {
    public var networkID: String
    public var endpointID: String
    public var address: IPv4Interface
    /// nil when Docker leaves the choice to the driver.
    public var mac: MACAddress?

    public init(networkID: String, endpointID: String, address: IPv4Interface, mac: MACAddress? = nil) {
        self.networkID = networkID
        self.endpointID = endpointID
        self.address = address
        self.mac = mac
    }
}

/// What Docker needs to attach an endpoint to its container.
public struct JoinInfo: Sendable, Equatable {
    /// The host-namespace link Docker moves into the container and renames `eth<N>`.
    public var interfaceName: String

    public init(interfaceName: String) { self.interfaceName = interfaceName }
}
