import DockerPlugin
import Synchronization

/// One call the router made on a backend, with the typed request it decoded.
enum RecordedCall: Equatable, Sendable {
    case networkCapabilities
    case createNetwork(CreateNetworkRequest)
    case deleteNetwork(DeleteNetworkRequest)
    case createEndpoint(CreateEndpointRequest)
    case endpointOperInfo(EndpointOperInfoRequest)
    case deleteEndpoint(DeleteEndpointRequest)
    case join(JoinRequest)
    case leave(LeaveRequest)
    case discoverNew(DiscoveryNotification)
    case discoverDelete(DiscoveryNotification)
    case programExternalConnectivity(ProgramExternalConnectivityRequest)
    case revokeExternalConnectivity(RevokeExternalConnectivityRequest)
    case allocateNetwork(AllocateNetworkRequest)
    case freeNetwork(FreeNetworkRequest)
    case ipamCapabilities
    case defaultAddressSpaces
    case requestPool(RequestPoolRequest)
    case releasePool(ReleasePoolRequest)
    case requestAddress(RequestAddressRequest)
    case releaseAddress(ReleaseAddressRequest)
}

/// An error whose description is what Docker should see.
struct BackendFailure: Error, CustomStringConvertible {
    var description: String
}

/// A backend for both driver interfaces that records every call and answers with canned replies. Networks it
/// has not seen created (other than `knownNetwork`) are unknown, so requests naming them fail as the real driver's
/// would; with `failure` set, every call fails with it.
final class RecordingBackend: NetworkDriverBackend, IpamBackend {
    static let knownNetwork = String(repeating: "ab", count: 32)

    private let recorded = Mutex<[RecordedCall]>([])
    private let networks = Mutex<Set<String>>([RecordingBackend.knownNetwork])
    private let failure: (any Error & Sendable)?

    init(failure: (any Error & Sendable)? = nil) {
        self.failure = failure
    }

    var calls: [RecordedCall] { recorded.withLock { $0 } }

    private func record(_ call: RecordedCall) throws {
        recorded.withLock { $0.append(call) }
        if let failure { throw failure }
    }

    private func requireNetwork(_ id: String) throws {
        guard networks.withLock({ $0.contains(id) }) else {
            throw BackendFailure(description: "no such network \(id)")
        }
    }

    // MARK: NetworkDriverBackend

    func capabilities() async throws -> NetworkDriverCapabilities {
        try record(.networkCapabilities)
        return NetworkDriverCapabilities(scope: .local, connectivityScope: .global)
    }

    func createNetwork(_ request: CreateNetworkRequest) async throws {
        try record(.createNetwork(request))
        _ = networks.withLock { $0.insert(request.networkID) }
    }

    func deleteNetwork(_ request: DeleteNetworkRequest) async throws {
        try record(.deleteNetwork(request))
        try requireNetwork(request.networkID)
        _ = networks.withLock { $0.remove(request.networkID) }
    }

    func createEndpoint(_ request: CreateEndpointRequest) async throws -> CreateEndpointResponse {
        try record(.createEndpoint(request))
        try requireNetwork(request.networkID)
        guard request.interface.macAddress.isEmpty else { return CreateEndpointResponse() }
        return CreateEndpointResponse(interface: EndpointInterfaceUpdate(macAddress: "02:42:0a:01:00:02"))
    }

    func endpointOperationalInfo(_ request: EndpointOperInfoRequest) async throws -> EndpointOperInfoResponse {
        try record(.endpointOperInfo(request))
        try requireNetwork(request.networkID)
        return EndpointOperInfoResponse(value: ["vni": 4097])
    }

    func deleteEndpoint(_ request: DeleteEndpointRequest) async throws {
        try record(.deleteEndpoint(request))
        try requireNetwork(request.networkID)
    }

    func join(_ request: JoinRequest) async throws -> JoinResponse {
        try record(.join(request))
        try requireNetwork(request.networkID)
        return JoinResponse(
            interfaceName: InterfaceName(srcName: "wv" + request.endpointID.prefix(8)), gateway: "10.1.0.1",
            staticRoutes: [StaticRoute(destination: "10.9.0.0/16", routeType: .nextHop, nextHop: "10.1.0.254")],
            disableGatewayService: true)
    }

    func leave(_ request: LeaveRequest) async throws {
        try record(.leave(request))
        try requireNetwork(request.networkID)
    }

    func discoverNew(_ notification: DiscoveryNotification) async throws {
        try record(.discoverNew(notification))
    }

    func discoverDelete(_ notification: DiscoveryNotification) async throws {
        try record(.discoverDelete(notification))
    }

    func programExternalConnectivity(_ request: ProgramExternalConnectivityRequest) async throws {
        try record(.programExternalConnectivity(request))
        try requireNetwork(request.networkID)
    }

    func revokeExternalConnectivity(_ request: RevokeExternalConnectivityRequest) async throws {
        try record(.revokeExternalConnectivity(request))
        try requireNetwork(request.networkID)
    }

    func allocateNetwork(_ request: AllocateNetworkRequest) async throws -> AllocateNetworkResponse {
        try record(.allocateNetwork(request))
        return AllocateNetworkResponse(options: request.options.merging(["weft.vni": "4097"]) { current, _ in current })
    }

    func freeNetwork(_ request: FreeNetworkRequest) async throws {
        try record(.freeNetwork(request))
    }

    // MARK: IpamBackend

    func capabilities() async throws -> IpamCapabilities {
        try record(.ipamCapabilities)
        return IpamCapabilities(requiresMACAddress: false, requiresRequestReplay: false)
    }

    func defaultAddressSpaces() async throws -> DefaultAddressSpaces {
        try record(.defaultAddressSpaces)
        return DefaultAddressSpaces(local: "weft-local", global: "weft-global")
    }

    func requestPool(_ request: RequestPoolRequest) async throws -> RequestPoolResponse {
        try record(.requestPool(request))
        let pool = request.pool.isEmpty ? "10.200.0.0/24" : request.pool
        return RequestPoolResponse(poolID: "pool-\(pool)", pool: pool)
    }

    func releasePool(_ request: ReleasePoolRequest) async throws {
        try record(.releasePool(request))
    }

    func requestAddress(_ request: RequestAddressRequest) async throws -> RequestAddressResponse {
        try record(.requestAddress(request))
        return RequestAddressResponse(address: request.address.isEmpty ? "10.1.0.2/24" : request.address + "/24")
    }

    func releaseAddress(_ request: ReleaseAddressRequest) async throws {
        try record(.releaseAddress(request))
    }
}

extension PluginResponse {
    /// The body as text.
    var text: String { String(decoding: body, as: UTF8.self) }
}
