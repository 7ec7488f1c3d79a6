import Overlay

/// Serves Docker's NetworkDriver calls from the overlay driver: translates the wire types into the domain's
/// requests and the driver's answers back.
public struct OverlayNetworkBackend: NetworkDriverBackend {
    private let driver: OverlayDriver
    private let scope: DriverScope

    /// - Parameter scope: `local` for the socket plugin (a `global` driver needs swarm), `global` for the
    ///   managed plugin under swarm.
    public init(driver: OverlayDriver, scope: DriverScope = .local) {
        self.driver = driver
        self.scope = scope
    }

    public func capabilities() async throws -> NetworkDriverCapabilities {
        // Connectivity spans hosts whatever the data scope, which also makes swarm announce this node.
        NetworkDriverCapabilities(scope: scope, connectivityScope: .global)
    }

    public func createNetwork(_ request: CreateNetworkRequest) async throws {
        var pools: [NetworkCreation.Pool] = []
        for data in request.ipv4Data {
            guard let pool = data.pool else { continue }
            let subnet: IPv4Subnet
            do { subnet = try IPv4Subnet(parsing: pool) } catch {
                throw DriverError.invalidAddress(object: "network \(request.networkID.prefix(12)) pool", value: pool)
            }
            let gateway = data.gateway.flatMap { $0.split(separator: "/").first }.flatMap { IPv4Address(String($0)) }
            pools.append(NetworkCreation.Pool(subnet: subnet, gateway: gateway))
        }
        let ipv6 = request.options.enableIPv6 || request.ipv6Data.contains { $0.pool != nil }
        try await driver.createNetwork(
            NetworkCreation(
                id: request.networkID, options: request.options.genericStrings, isInternal: request.options.isInternal,
                ipv6Requested: ipv6, ipv4Pools: pools))
    }

    public func deleteNetwork(_ request: DeleteNetworkRequest) async throws {
        try await driver.deleteNetwork(id: request.networkID)
    }

    public func createEndpoint(_ request: CreateEndpointRequest) async throws -> CreateEndpointResponse {
        if request.interface.address.isEmpty, !request.interface.addressIPv6.isEmpty {
            throw DriverError.ipv6NotSupported(network: request.networkID)
        }
        let record = try await driver.createEndpoint(
            EndpointCreation(
                networkID: request.networkID, endpointID: request.endpointID, address: request.interface.address,
                macAddress: request.interface.macAddress))
        // Docker fails the endpoint if a driver echoes a field it set itself: answer only the MAC, and only when
        // the request left it to weft.
        guard request.interface.macAddress.isEmpty else { return CreateEndpointResponse() }
        return CreateEndpointResponse(interface: EndpointInterfaceUpdate(macAddress: "\(record.mac)"))
    }

    public func endpointOperationalInfo(_ request: EndpointOperInfoRequest) async throws -> EndpointOperInfoResponse {
        let record = try await driver.endpoint(network: request.networkID, endpoint: request.endpointID)
        var value: [String: JSONValue] = ["weft.mac": .string("\(record.mac)")]
        if let network = await driver.network(id: request.networkID) {
            value["weft.vni"] = .string("\(network.vni)")
        }
        return EndpointOperInfoResponse(value: value)
    }

    public func deleteEndpoint(_ request: DeleteEndpointRequest) async throws {
        try await driver.deleteEndpoint(network: request.networkID, endpoint: request.endpointID)
    }

    public func join(_ request: JoinRequest) async throws -> JoinResponse {
        let info = try await driver.join(network: request.networkID, endpoint: request.endpointID)
        // No gateway: Docker adds docker_gwbridge for egress, unless the network is --internal.
        return JoinResponse(interfaceName: InterfaceName(srcName: info.interfaceName, dstPrefix: "eth"))
    }

    public func leave(_ request: LeaveRequest) async throws {
        try await driver.leave(network: request.networkID, endpoint: request.endpointID)
    }
}
