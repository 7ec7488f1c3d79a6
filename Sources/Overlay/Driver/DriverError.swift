import Netlink

/// Why a Docker request failed. Descriptions reach the Docker user, so each names the object and the cause.
public enum DriverError: Error, Sendable, Equatable, CustomStringConvertible {
    case ipv6NotSupported(network: String)
    case noIPv4Pool(network: String)
    case multipleIPv4Pools(network: String, count: Int)
    case multipleIPv6Pools(network: String, count: Int)
    case invalidOption(name: String, value: String, reason: String)
    /// An option weft cannot honour (an unknown `weft.*` one, or one of Docker's overlay that weft does not do).
    case unsupportedOption(name: String, reason: String)
    /// The network asks for encryption and this host cannot provide it.
    case encryptionUnavailable(network: String, reason: String)
    case invalidAddress(object: String, value: String)
    /// The VNI is already taken on this host by a network with another ID.
    case vniInUse(vni: VNI, network: String, subnet: IPv4Subnet)
    /// Another host uses the VNI for a different subnet.
    case vniUsedElsewhere(vni: VNI, subnet: IPv4Subnet, host: String)
    /// The same NetworkID was created again with different settings.
    case networkRedefined(network: String, existing: String, requested: String)
    /// Another CreateNetwork or AllocateNetwork for the same network has not finished yet.
    case networkBusy(network: String)
    case unknownNetwork(String)
    case unknownEndpoint(endpoint: String, network: String)
    case endpointRedefined(endpoint: String, reason: String)
    /// One of the endpoint's link names is another endpoint's or another object's.
    case linkNameTaken(endpoint: String, link: String, reason: String)
    /// The kernel refused a change; `action` says what weft was doing.
    case kernel(action: String, error: NetlinkError)
    case persistence(String)

    public var description: String {
        switch self {
        case .ipv6NotSupported(let network):
            "network \(network.prefix(12)): --ipv6 needs an IPv6 --subnet (such as fd00:30::/64); the IPAM driver gave none"
        case .noIPv4Pool(let network):
            "network \(network.prefix(12)): no IPv4 subnet was given by the IPAM driver"
        case .multipleIPv4Pools(let network, let count):
            "network \(network.prefix(12)): weft supports one IPv4 subnet per network, got \(count)"
        case .multipleIPv6Pools(let network, let count):
            "network \(network.prefix(12)): weft supports one IPv6 subnet per network, got \(count)"
        case .invalidOption(let name, let value, let reason):
            "option \(name)=\(value) is invalid: \(reason)"
        case .unsupportedOption(let name, let reason):
            "option \(name) is not supported: \(reason)"
        case .encryptionUnavailable(let network, let reason):
            "network \(network.prefix(12)) is encrypted (-o encrypted) but cannot be created on this host: \(reason)"
        case .invalidAddress(let object, let value):
            "\(object): \"\(value)\" is not an IPv4 address in CIDR form"
        case .vniInUse(let vni, let network, let subnet):
            "VNI \(vni) is already used by network \(network.prefix(12)) (subnet \(subnet)) on this host"
        case .vniUsedElsewhere(let vni, let subnet, let host):
            "VNI \(vni) is already used by subnet \(subnet) on host \(host)"
        case .networkRedefined(let network, let existing, let requested):
            "network \(network.prefix(12)) already exists as \(existing); it cannot be recreated as \(requested)"
        case .networkBusy(let network):
            "network \(network.prefix(12)): another request for this network is still in progress; try again"
        case .unknownNetwork(let network):
            "network \(network.prefix(12)) is not a weft network on this host"
        case .unknownEndpoint(let endpoint, let network):
            "endpoint \(endpoint.prefix(12)) is not known on network \(network.prefix(12))"
        case .endpointRedefined(let endpoint, let reason):
            "endpoint \(endpoint.prefix(12)) already exists: \(reason)"
        case .linkNameTaken(let endpoint, let link, let reason):
            "endpoint \(endpoint.prefix(12)): its interface name \(link) is taken: \(reason)"
        case .kernel(let action, let error):
            "\(action): \(error)"
        case .persistence(let detail):
            "cannot save weft's state: \(detail)"
        }
    }
}
