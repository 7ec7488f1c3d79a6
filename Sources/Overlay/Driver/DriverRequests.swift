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
    /// The IPv6 pools of an `--ipv6` network (Docker's `IPv6Data`).
    public var ipv6Pools: [Pool6]

    /// An IPv6 pool and the gateway Docker's IPAM reserved in it.
    public struct Pool6: Sendable, Equatable {
        public var subnet: IPv6Subnet
        public var gateway: IPv6Address?

        public init(subnet: IPv6Subnet, gateway: IPv6Address?) {
            self.subnet = subnet
            self.gateway = gateway
        }
    }

    public init(id: String, options: NetworkOptions = NetworkOptions(), isInternal: Bool = false, ipv6Requested: Bool = false,
                ipv4Pools: [Pool], ipv6Pools: [Pool6] = []) {
        self.ipv6Pools = ipv6Pools
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
    /// The IPv6 address on a dual-stack network.
    public var address6: IPv6Interface?

    public init(networkID: String, endpointID: String, address: IPv4Interface, mac: MACAddress? = nil,
                address6: IPv6Interface? = nil) {
        self.address6 = address6
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
