/// Maps a request (`POST /X.Y` and its body) to a typed call on a backend, and the result to a status and a JSON
/// body. It knows nothing of sockets, so every route can be tested with plain bytes.
public struct PluginRouter: Sendable {
    /// Receives NetworkDriver calls.
    public let network: any NetworkDriverBackend
    /// Receives IpamDriver calls.
    public let ipam: any IpamBackend
    /// Receives weft's own control calls (`/Weft.*`); nil serves none.
    public let control: (any ControlBackend)?

    public init(network: any NetworkDriverBackend, ipam: any IpamBackend, control: (any ControlBackend)? = nil) {
        self.network = network
        self.ipam = ipam
        self.control = control
    }

    /// Answers one request. Never throws: every failure becomes an error reply (`{"Err": ...}`).
    /// - Parameters:
    ///   - method: the HTTP method; only `POST` is served.
    ///   - path: the request target, e.g. `/NetworkDriver.CreateNetwork`.
    ///   - body: the request body, possibly empty.
    public func respond(method: String, path: String, body: [UInt8]) async -> PluginResponse {
        if path.hasPrefix("/Weft."), let control, method == "POST" {
            return await respondToControl(path: path, body: body, control: control)
        }
        guard let endpoint = PluginEndpoint(path: path) else {
            return .failure(status: 404, endpoint: nil, message: "unknown plugin API path \(path)")
        }
        guard method == "POST" else {
            return .failure(
                status: 405, endpoint: endpoint, message: "\(endpoint.path) accepts only POST, not \(method)")
        }
        return await dispatch(endpoint, body: body)
    }

    /// weft's control calls: `POST /Weft.Join {"Seeds": [...]}`, `POST /Weft.Keys {"Op": ...}`.
    private func respondToControl(path: String, body: [UInt8], control: any ControlBackend) async -> PluginResponse {
        if path == "/Weft.Keys" { return await respondToKeys(body: body, control: control) }
        guard path == "/Weft.Join" else {
            return .failure(status: 404, endpoint: nil, message: "unknown weft control path \(path)")
        }
        do {
            let request = try WireCoding.decode(JoinSeedsRequest.self, from: body)
            let answered = try await control.join(seeds: request.seeds)
            return PluginResponse(status: 200, body: try WireCoding.encode(JoinSeedsResponse(answered: answered)), endpoint: nil)
        } catch let error as BadRequest {
            return .failure(status: 400, endpoint: nil, message: "\(error)")
        } catch {
            return .failure(status: 500, endpoint: nil, message: "join: \(error)")
        }
    }

    private func respondToKeys(body: [UInt8], control: any ControlBackend) async -> PluginResponse {
        do {
            let request = try WireCoding.decode(KeyringRequest.self, from: body)
            guard let change = request.change else {
                return .failure(
                    status: 400, endpoint: nil,
                    message: "keys: \"\(request.op)\" is not list, install (with Key), use or remove (with Fingerprint), or show")
            }
            let reply = try await control.keys(change)
            return PluginResponse(status: 200, body: try WireCoding.encode(reply), endpoint: nil)
        } catch let error as BadRequest {
            return .failure(status: 400, endpoint: nil, message: "\(error)")
        } catch {
            return .failure(status: 500, endpoint: nil, message: "keys: \(error)")
        }
    }

    private func dispatch(_ endpoint: PluginEndpoint, body: [UInt8]) async -> PluginResponse {
        switch endpoint {
        case .activate:
            return reply(endpoint) { PluginActivateResponse() }
        case .networkCapabilities:
            return await call(endpoint, subject: "capabilities") { try await network.capabilities() }
        case .createNetwork:
            return await call(endpoint, body, CreateNetworkRequest.self, subject: { Subject.network($0.networkID) }) {
                try await network.createNetwork($0)
                return EmptyResponse()
            }
        case .deleteNetwork:
            return await call(endpoint, body, DeleteNetworkRequest.self, subject: { Subject.network($0.networkID) }) {
                try await network.deleteNetwork($0)
                return EmptyResponse()
            }
        case .createEndpoint:
            return await call(endpoint, body, CreateEndpointRequest.self, subject: { Subject.endpoint($0) }) {
                try await network.createEndpoint($0)
            }
        case .endpointOperInfo:
            return await call(endpoint, body, EndpointOperInfoRequest.self, subject: { Subject.endpoint($0) }) {
                try await network.endpointOperationalInfo($0)
            }
        case .deleteEndpoint:
            return await call(endpoint, body, DeleteEndpointRequest.self, subject: { Subject.endpoint($0) }) {
                try await network.deleteEndpoint($0)
                return EmptyResponse()
            }
        case .join:
            return await call(endpoint, body, JoinRequest.self, subject: { Subject.endpoint($0.endpointID, $0.networkID) }) {
                try await network.join($0)
            }
        case .leave:
            return await call(endpoint, body, LeaveRequest.self, subject: { Subject.endpoint($0) }) {
                try await network.leave($0)
                return EmptyResponse()
            }
        case .discoverNew:
            return await call(endpoint, body, DiscoveryNotification.self, subject: { Subject.discovery($0) }) {
                try await network.discoverNew($0)
                return EmptyResponse()
            }
        case .discoverDelete:
            return await call(endpoint, body, DiscoveryNotification.self, subject: { Subject.discovery($0) }) {
                try await network.discoverDelete($0)
                return EmptyResponse()
            }
        case .programExternalConnectivity:
            return await call(
                endpoint, body, ProgramExternalConnectivityRequest.self,
                subject: { Subject.endpoint($0.endpointID, $0.networkID) }
            ) {
                try await network.programExternalConnectivity($0)
                return EmptyResponse()
            }
        case .revokeExternalConnectivity:
            return await call(
                endpoint, body, RevokeExternalConnectivityRequest.self, subject: { Subject.endpoint($0) }
            ) {
                try await network.revokeExternalConnectivity($0)
                return EmptyResponse()
            }
        case .allocateNetwork:
            return await call(endpoint, body, AllocateNetworkRequest.self, subject: { Subject.network($0.networkID) }) {
                try await network.allocateNetwork($0)
            }
        case .freeNetwork:
            return await call(endpoint, body, FreeNetworkRequest.self, subject: { Subject.network($0.networkID) }) {
                try await network.freeNetwork($0)
                return EmptyResponse()
            }
        case .ipamCapabilities:
            return await call(endpoint, subject: "IPAM capabilities") { try await ipam.capabilities() }
        case .defaultAddressSpaces:
            return await call(endpoint, subject: "default address spaces") { try await ipam.defaultAddressSpaces() }
        case .requestPool:
            return await call(endpoint, body, RequestPoolRequest.self, subject: { Subject.poolRequest($0) }) {
                try await ipam.requestPool($0)
            }
        case .releasePool:
            return await call(endpoint, body, ReleasePoolRequest.self, subject: { "pool \($0.poolID)" }) {
                try await ipam.releasePool($0)
                return EmptyResponse()
            }
        case .requestAddress:
            return await call(endpoint, body, RequestAddressRequest.self, subject: { Subject.addressRequest($0) }) {
                try await ipam.requestAddress($0)
            }
        case .releaseAddress:
            return await call(
                endpoint, body, ReleaseAddressRequest.self, subject: { "address \($0.address) in pool \($0.poolID)" }
            ) {
                try await ipam.releaseAddress($0)
                return EmptyResponse()
            }
        }
    }

    /// A call whose request body Docker leaves empty: the body is ignored.
    private func call<Reply: Encodable>(
        _ endpoint: PluginEndpoint, subject: String, _ operation: () async throws -> Reply
    ) async -> PluginResponse {
        do {
            let result = try await operation()
            return reply(endpoint) { result }
        } catch {
            return failure(endpoint, subject: subject, error)
        }
    }

    /// A call with a request body: decode it, run the operation, encode its reply.
    private func call<Request: Decodable & Sendable, Reply: Encodable>(
        _ endpoint: PluginEndpoint, _ body: [UInt8], _ type: Request.Type, subject: (Request) -> String,
        _ operation: (Request) async throws -> Reply
    ) async -> PluginResponse {
        let request: Request
        do {
            request = try WireCoding.decode(type, from: body)
        } catch {
            return .failure(
                status: 400, endpoint: endpoint, message: "invalid \(endpoint.rawValue) request: \(error.reason)")
        }
        do {
            let result = try await operation(request)
            return reply(endpoint) { result }
        } catch {
            return failure(endpoint, subject: subject(request), error)
        }
    }

    private func reply<Reply: Encodable>(_ endpoint: PluginEndpoint, _ make: () -> Reply) -> PluginResponse {
        do {
            return PluginResponse(status: 200, body: try WireCoding.encode(make()), endpoint: endpoint)
        } catch {
            return .failure(status: 500, endpoint: endpoint, message: "cannot encode the reply: \(error)")
        }
    }

    private func failure(_ endpoint: PluginEndpoint, subject: String, _ error: any Error) -> PluginResponse {
        let cause = error is CancellationError ? "cancelled: the plugin is shutting down" : String(describing: error)
        return .failure(status: 500, endpoint: endpoint, message: "\(subject): \(cause)")
    }
}

/// How error messages name the object a request was about, with IDs shortened as `docker` shows them.
enum Subject {
    static func short(_ id: String) -> String {
        String(id.prefix(12))
    }

    static func network(_ id: String) -> String {
        "network \(short(id))"
    }

    static func endpoint(_ reference: EndpointReference) -> String {
        endpoint(reference.endpointID, reference.networkID)
    }

    static func endpoint(_ endpointID: String, _ networkID: String) -> String {
        "endpoint \(short(endpointID)) on network \(short(networkID))"
    }

    static func endpoint(_ request: CreateEndpointRequest) -> String {
        endpoint(request.endpointID, request.networkID)
    }

    static func discovery(_ notification: DiscoveryNotification) -> String {
        "node discovery (type \(notification.discoveryType))"
    }

    static func poolRequest(_ request: RequestPoolRequest) -> String {
        let family = request.v6 ? "IPv6 pool" : "pool"
        return request.pool.isEmpty ? "\(family) request" : "\(family) request for subnet \(request.pool)"
    }

    static func addressRequest(_ request: RequestAddressRequest) -> String {
        let what = request.isGatewayRequest ? "gateway" : "address"
        return request.address.isEmpty
            ? "\(what) request in pool \(request.poolID)" : "\(what) \(request.address) in pool \(request.poolID)"
    }
}
