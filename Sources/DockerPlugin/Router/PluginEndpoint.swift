/// Every path of Docker's plugin protocol that weft serves: `POST /<rawValue>`.
public enum PluginEndpoint: String, CaseIterable, Sendable {
    case activate = "Plugin.Activate"

    case networkCapabilities = "NetworkDriver.GetCapabilities"
    case createNetwork = "NetworkDriver.CreateNetwork"
    case deleteNetwork = "NetworkDriver.DeleteNetwork"
    case createEndpoint = "NetworkDriver.CreateEndpoint"
    case endpointOperInfo = "NetworkDriver.EndpointOperInfo"
    case deleteEndpoint = "NetworkDriver.DeleteEndpoint"
    case join = "NetworkDriver.Join"
    case leave = "NetworkDriver.Leave"
    case discoverNew = "NetworkDriver.DiscoverNew"
    case discoverDelete = "NetworkDriver.DiscoverDelete"
    case programExternalConnectivity = "NetworkDriver.ProgramExternalConnectivity"
    case revokeExternalConnectivity = "NetworkDriver.RevokeExternalConnectivity"
    case allocateNetwork = "NetworkDriver.AllocateNetwork"
    case freeNetwork = "NetworkDriver.FreeNetwork"

    case ipamCapabilities = "IpamDriver.GetCapabilities"
    case defaultAddressSpaces = "IpamDriver.GetDefaultAddressSpaces"
    case requestPool = "IpamDriver.RequestPool"
    case releasePool = "IpamDriver.ReleasePool"
    case requestAddress = "IpamDriver.RequestAddress"
    case releaseAddress = "IpamDriver.ReleaseAddress"

    /// The HTTP path, e.g. `/NetworkDriver.CreateNetwork`.
    public var path: String { "/" + rawValue }

    /// The endpoint served at `path` (a query string is ignored), if any.
    public init?(path: String) {
        var path = Substring(path)
        if let query = path.firstIndex(of: "?") {
            path = path[..<query]
        }
        guard path.first == "/" else { return nil }
        self.init(rawValue: String(path.dropFirst()))
    }
}
