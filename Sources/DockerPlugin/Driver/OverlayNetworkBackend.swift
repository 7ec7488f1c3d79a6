import Netlink
import Overlay

/// Serves Docker's NetworkDriver calls from the overlay driver: translates the wire types into the domain's
/// requests and the driver's answers back.
public struct OverlayNetworkBackend: NetworkDriverBackend {
    private let driver: OverlayDriver
    private let scope: DriverScope
    private let membership: (any SwarmMembership)?
    /// This host's gossip address (`host:port`), handed to workers as a seed by AllocateNetwork on a manager.
    private let gossipSeed: String?
    /// Whether the operator chose weft's advertise address (else weft may take swarm's next time).
    private let advertiseAddressConfigured: Bool

    /// The option AllocateNetwork returns and CreateNetwork on every swarm node receives: gossip seeds.
    public static let seedsOption = "weft.seeds"
    /// The option AllocateNetwork returns with the manager's primary gossip key (base64): swarm carries it to
    /// every node over its TLS-protected raft, and anyone who can `docker network inspect` there can read it.
    public static let clusterKeyOption = "weft.gossip-key"
    /// The `weft.*` options swarm carries between AllocateNetwork and CreateNetwork, read here, not by the driver.
    static let swarmOptions: Set<String> = [seedsOption, clusterKeyOption]

    /// - Parameters:
    ///   - scope: `local` for the socket plugin (a `global` driver needs swarm), `global` for the managed
    ///     plugin under swarm.
    ///   - membership: told of the gossip seeds a swarm network's options carry (nil: a host on its own).
    ///   - gossipSeed: this host's gossip address, given to swarm workers as a seed.
    ///   - advertiseAddressConfigured: whether the operator set weft's advertise address.
    public init(driver: OverlayDriver, scope: DriverScope = .local, membership: (any SwarmMembership)? = nil,
                gossipSeed: String? = nil, advertiseAddressConfigured: Bool = false) {
        self.driver = driver
        self.advertiseAddressConfigured = advertiseAddressConfigured
        self.scope = scope
        self.membership = membership
        self.gossipSeed = gossipSeed
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
        var pools6: [NetworkCreation.Pool6] = []
        for data in request.ipv6Data {
            guard let pool = data.pool else { continue }
            let subnet: IPv6Subnet
            do { subnet = try IPv6Subnet(parsing: pool) } catch {
                throw DriverError.invalidOption(name: "--subnet", value: pool, reason: "network \(request.networkID.prefix(12)): \(error)")
            }
            let gateway = data.gateway.flatMap { $0.split(separator: "/").first }.flatMap { IPv6Address(String($0)) }
            pools6.append(NetworkCreation.Pool6(subnet: subnet, gateway: gateway))
        }
        let ipv6 = request.options.enableIPv6 || !pools6.isEmpty
        // A swarm network carries the managers' gossip seeds: join them (in the background; a manager may
        // still be starting, and joining retries).
        var options = request.options.genericStrings
        let parsed = try NetworkOptions(parsing: options, handledElsewhere: Self.swarmOptions)
        let keyText = options.removeValue(forKey: Self.clusterKeyOption)
        if let membership, let keyText {
            do { try await membership.clusterKeyArrived(keyText) } catch {
                throw DriverError.invalidOption(name: Self.clusterKeyOption, value: "(not shown)", reason: "\(error)")
            }
        }
        if let membership, let seeds = options[Self.seedsOption] {
            await membership.networkArrived(
                seeds: seeds.split(separator: ",").map(String.init).filter { !$0.isEmpty && $0 != gossipSeed })
        }
        try await driver.createNetwork(
            NetworkCreation(
                id: request.networkID, options: parsed, isInternal: request.options.isInternal,
                ipv6Requested: ipv6, ipv4Pools: pools, ipv6Pools: pools6))
    }

    public func deleteNetwork(_ request: DeleteNetworkRequest) async throws {
        try await driver.deleteNetwork(id: request.networkID)
    }

    public func createEndpoint(_ request: CreateEndpointRequest) async throws -> CreateEndpointResponse {
        let object = "endpoint \(request.endpointID.prefix(12))"
        guard let address = IPv4Interface(request.interface.address) else {
            throw DriverError.invalidAddress(object: object, value: request.interface.address)
        }
        var address6: IPv6Interface?
        if !request.interface.addressIPv6.isEmpty {
            guard let parsed = IPv6Interface(request.interface.addressIPv6) else {
                throw DriverError.invalidOption(name: "AddressIPv6", value: request.interface.addressIPv6,
                                                reason: "\(object): not an IPv6 address in CIDR form")
            }
            address6 = parsed
        }
        var mac: MACAddress?
        if !request.interface.macAddress.isEmpty {
            guard let given = MACAddress(request.interface.macAddress) else {
                throw DriverError.invalidOption(name: "MacAddress", value: request.interface.macAddress, reason: "not a MAC address")
            }
            mac = given
        }
        let record = try await driver.createEndpoint(
            EndpointCreation(networkID: request.networkID, endpointID: request.endpointID, address: address, mac: mac,
                             address6: address6))
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

    /// On a swarm manager: fixes the network's VNI (`weft.vni`, or derived from the subnet and moved on if
    /// another network holds it; see ``OverlayDriver/allocateNetwork(id:subnet:options:)``) and adds this manager
    /// as a gossip seed. Idempotent: swarm calls it again on every leader change, with the options of the previous
    /// answer merged in.
    public func allocateNetwork(_ request: AllocateNetworkRequest) async throws -> AllocateNetworkResponse {
        // Swarm's allocator puts a dual-stack network's IPv6 pool among the IPv4 data too.
        guard let pool = request.ipv4Data.lazy.compactMap(\.pool).first(where: { !$0.contains(":") }) else {
            throw DriverError.noIPv4Pool(network: request.networkID)
        }
        let subnet: IPv4Subnet
        do { subnet = try IPv4Subnet(parsing: pool) } catch {
            throw DriverError.invalidAddress(object: "network \(request.networkID.prefix(12)) pool", value: pool)
        }
        let parsed = try NetworkOptions(parsing: request.options, handledElsewhere: Self.swarmOptions)
        var options = request.options
        options[NetworkPolicy.vniOption] =
            "\(try await driver.allocateNetwork(id: request.networkID, subnet: subnet, options: parsed))"
        if let gossipSeed {
            var seeds = (options[Self.seedsOption] ?? "").split(separator: ",").map(String.init)
            if !seeds.contains(gossipSeed) { seeds.append(gossipSeed) }
            options[Self.seedsOption] = seeds.joined(separator: ",")
        }
        if let key = await membership?.clusterKey() {
            options[Self.clusterKeyOption] = key
        }
        return AllocateNetworkResponse(options: options)
    }

    /// In swarm mode, this node's advertise address: compared with weft's and remembered for its next start.
    /// Other notifications (classic cluster-store peers) mean nothing to weft, which has its own gossip.
    public func discoverNew(_ notification: DiscoveryNotification) async throws {
        guard let node = notification.node, node.isSelf else { return }
        try await driver.swarmAdvertised(node.address, configured: advertiseAddressConfigured)
    }

    /// The network's VNI is free again, and this host's duty as its gossip seed ends.
    public func freeNetwork(_ request: FreeNetworkRequest) async throws {
        try await driver.freeNetwork(id: request.networkID)
    }
}
