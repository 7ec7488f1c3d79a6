import Overlay

/// Serves Docker's IpamDriver API from an `Overlay.AddressAllocator`: it parses the wire strings into IPAM
/// values (IPv6 pools only for an explicit `--subnet`), and writes addresses back in the CIDR form Docker expects.
///
/// It does not put the gateway in RequestPool's `Data`, so Docker always asks for the gateway with a
/// RequestAddress; the allocator then answers the pool's first usable address (or the user's `--gateway`), and
/// the gateway is held like any other address until the network is removed.
public struct AllocatorIpamBackend: IpamBackend {
    /// Where pools and addresses come from.
    public let allocator: any AddressAllocator
    /// The names Docker echoes back as RequestPool's `AddressSpace`.
    public let addressSpaces: DefaultAddressSpaces

    public init(
        allocator: any AddressAllocator,
        addressSpaces: DefaultAddressSpaces = DefaultAddressSpaces(local: "weft-local", global: "weft-global")
    ) {
        self.allocator = allocator
        self.addressSpaces = addressSpaces
    }

    /// No MAC needed; no replay, because weft keeps its own IPAM state across Docker restarts (a replay would
    /// collide with the addresses it still holds).
    public func capabilities() async throws -> IpamCapabilities {
        IpamCapabilities(requiresMACAddress: false, requiresRequestReplay: false)
    }

    public func defaultAddressSpaces() async throws -> DefaultAddressSpaces {
        addressSpaces
    }

    /// An IPv6 `Pool` is an IPv6 pool whatever `V6` says: swarm's allocator asks for every pool of a network
    /// with `V6` false (README: "Dual-stack swarm networks").
    public func requestPool(_ request: RequestPoolRequest) async throws -> RequestPoolResponse {
        if request.v6 || request.pool.contains(":") { return try await requestPool6(request) }
        let subnet = try request.pool.isEmpty ? nil : Self.subnet(request.pool)
        let range = try request.subPool.isEmpty ? nil : Self.subnet(request.subPool)
        let pool = try await allocator.requestPool(PoolRequest(subnet: subnet, range: range))
        return RequestPoolResponse(poolID: pool.id.rawValue, pool: pool.subnet.description)
    }

    /// The IPv6 pass of an `--ipv6` network: an explicit subnet, no `--ip-range`, the block size from
    /// `--ipam-opt weft.ipv6-block` (needed below /64).
    private func requestPool6(_ request: RequestPoolRequest) async throws(IPAMError) -> RequestPoolResponse {
        guard !request.pool.isEmpty else { throw .ipv6SubnetRequired }
        let subnet: IPv6Subnet
        do { subnet = try IPv6Subnet(parsing: request.pool) } catch { throw .invalidInput(error) }
        guard request.subPool.isEmpty else { throw .ipv6RangeNotSupported(subnet) }
        var block: Int?
        if let text = request.options[PoolRequest6.blockOption] {
            let digits = text.hasPrefix("/") ? String(text.dropFirst()) : text
            guard let value = Int(digits), digits.count <= 3 else { throw .invalidIPv6BlockOption(text) }
            block = value
        }
        let pool = try await allocator.requestPool6(PoolRequest6(subnet: subnet, blockPrefixLength: block))
        return RequestPoolResponse(poolID: pool.id.rawValue, pool: pool.subnet.description)
    }

    public func releasePool(_ request: ReleasePoolRequest) async throws {
        try await allocator.releasePool(PoolID(rawValue: request.poolID))
    }

    public func requestAddress(_ request: RequestAddressRequest) async throws -> RequestAddressResponse {
        let pool = PoolID(rawValue: request.poolID)
        if pool.isIPv6 {
            let wanted = try request.address.isEmpty ? nil : Self.address6(request.address)
            let allocated = try await allocator.requestAddress6(
                in: pool, address: wanted, role: request.isGatewayRequest ? .gateway : .endpoint)
            return RequestAddressResponse(address: allocated.cidr)
        }
        let wanted = try request.address.isEmpty ? nil : Self.address(request.address)
        let allocated = try await allocator.requestAddress(
            in: PoolID(rawValue: request.poolID), address: wanted,
            role: request.isGatewayRequest ? .gateway : .endpoint)
        return RequestAddressResponse(address: allocated.cidr)
    }

    public func releaseAddress(_ request: ReleaseAddressRequest) async throws {
        let pool = PoolID(rawValue: request.poolID)
        if pool.isIPv6 { return try await allocator.releaseAddress6(Self.address6(request.address), in: pool) }
        try await allocator.releaseAddress(Self.address(request.address), in: PoolID(rawValue: request.poolID))
    }

    private static func subnet(_ text: String) throws(IPAMError) -> IPv4Subnet {
        do {
            return try IPv4Subnet(parsing: text)
        } catch .ipv6NotSupported {
            throw .ipv6NotSupported
        } catch {
            throw .invalidInput(error)
        }
    }

    /// Parses a bare IPv6 address; the CIDR form is accepted too and its prefix ignored.
    private static func address6(_ text: String) throws(IPAMError) -> IPv6Address {
        let bare = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
        do {
            return try IPv6Address(parsing: String(bare))
        } catch {
            throw .invalidInput(error)
        }
    }

    /// Parses a bare address; the CIDR form (`10.1.0.5/24`) is accepted too and its prefix ignored.
    private static func address(_ text: String) throws(IPAMError) -> IPv4Address {
        let bare = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
        do {
            return try IPv4Address(parsing: String(bare))
        } catch {
            throw .invalidInput(error)
        }
    }
}
