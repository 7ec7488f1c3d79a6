/// What the plugin server dispatches NetworkDriver calls to. The overlay driver implements it; tests implement
/// it with a recorder.
///
/// Every method may throw: the error's `description` (via `String(describing:)`) reaches Docker as the reply's
/// `Err`, prefixed with the network or endpoint concerned, and from there the user. Docker may deliver a call
/// twice (it retries on connection errors), so implementations should be idempotent on the same IDs.
///
/// The calls Docker sends only in swarm mode or for external connectivity have default implementations that do
/// nothing and succeed, so a driver implements them only when it needs them.
public protocol NetworkDriverBackend: Sendable {
    /// `GetCapabilities`, at registration. An error here leaves the driver unusable until dockerd restarts.
    func capabilities() async throws -> NetworkDriverCapabilities
    /// `CreateNetwork`: a network was created on this host.
    func createNetwork(_ request: CreateNetworkRequest) async throws
    /// `DeleteNetwork`: the network was removed (failures are only logged by Docker).
    func deleteNetwork(_ request: DeleteNetworkRequest) async throws
    /// `CreateEndpoint`: a container is being attached; may fill in only the interface members that were empty.
    func createEndpoint(_ request: CreateEndpointRequest) async throws -> CreateEndpointResponse
    /// `EndpointOperInfo`: informational; must succeed or the container fails to start.
    func endpointOperationalInfo(_ request: EndpointOperInfoRequest) async throws -> EndpointOperInfoResponse
    /// `DeleteEndpoint` (failures are only logged by Docker).
    func deleteEndpoint(_ request: DeleteEndpointRequest) async throws
    /// `Join`: attach the endpoint to the sandbox; names the host link Docker moves into the container.
    func join(_ request: JoinRequest) async throws -> JoinResponse
    /// `Leave` (failures are only logged by Docker).
    func leave(_ request: LeaveRequest) async throws
    /// `DiscoverNew`: in swarm mode, this node's addresses.
    func discoverNew(_ notification: DiscoveryNotification) async throws
    /// `DiscoverDelete`.
    func discoverDelete(_ notification: DiscoveryNotification) async throws
    /// `ProgramExternalConnectivity`: the endpoint became the sandbox's gateway endpoint.
    func programExternalConnectivity(_ request: ProgramExternalConnectivityRequest) async throws
    /// `RevokeExternalConnectivity`.
    func revokeExternalConnectivity(_ request: RevokeExternalConnectivityRequest) async throws
    /// `AllocateNetwork` (swarm manager, global scope): must be idempotent and return the same options.
    func allocateNetwork(_ request: AllocateNetworkRequest) async throws -> AllocateNetworkResponse
    /// `FreeNetwork` (swarm manager).
    func freeNetwork(_ request: FreeNetworkRequest) async throws
}

extension NetworkDriverBackend {
    /// Ignores the notification.
    public func discoverNew(_ notification: DiscoveryNotification) async throws {}
    /// Ignores the notification.
    public func discoverDelete(_ notification: DiscoveryNotification) async throws {}
    /// Does nothing: weft publishes no ports itself.
    public func programExternalConnectivity(_ request: ProgramExternalConnectivityRequest) async throws {}
    /// Does nothing.
    public func revokeExternalConnectivity(_ request: RevokeExternalConnectivityRequest) async throws {}
    /// Allocates nothing and returns no options.
    public func allocateNetwork(_ request: AllocateNetworkRequest) async throws -> AllocateNetworkResponse {
        AllocateNetworkResponse()
    }
    /// Does nothing.
    public func freeNetwork(_ request: FreeNetworkRequest) async throws {}
}
