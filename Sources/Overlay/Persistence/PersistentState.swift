/// Everything weft must remember across restarts, since Docker never replays CreateNetwork, CreateEndpoint
/// or Join: the networks and endpoints of this host and the IPAM allocations.
public struct PersistentState: Codable, Sendable, Equatable {
    public static let currentFormat = 1

    public var formatVersion = PersistentState.currentFormat
    /// By Docker NetworkID.
    public var networks: [String: NetworkRecord] = [:]
    /// By Docker EndpointID.
    public var endpoints: [String: EndpointRecord] = [:]
    public var ipam = AllocatorState()

    public init() {}

    public func endpoints(of network: String) -> [EndpointRecord] {
        endpoints.values.filter { $0.networkID == network }.sorted { $0.id < $1.id }
    }
}
