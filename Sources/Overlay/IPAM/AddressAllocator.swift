/// What a pool request asks for: an explicit subnet (`--subnet`, optionally with `--ip-range`), or any free one.
public struct PoolRequest: Sendable, Equatable {
    /// The subnet the user chose; `nil` lets the allocator pick the next free subnet of its default range.
    public var subnet: IPv4Subnet?
    /// Restricts automatic address allocation to this part of the subnet (`--ip-range`).
    public var range: IPv4Subnet?

    public init(subnet: IPv4Subnet? = nil, range: IPv4Subnet? = nil) {
        self.subnet = subnet
        self.range = range
    }
}

/// A pool handed out by ``AddressAllocator/requestPool(_:)``.
public struct AllocatedPool: Sendable, Equatable {
    /// The ID Docker passes back in address requests.
    public var id: PoolID
    /// The pool's subnet.
    public var subnet: IPv4Subnet
    /// The address a gateway request without an explicit address gets: always the subnet's first usable
    /// address, so every host agrees on it.
    public var gateway: IPv4Address

    public init(id: PoolID, subnet: IPv4Subnet, gateway: IPv4Address) {
        self.id = id
        self.subnet = subnet
        self.gateway = gateway
    }
}

/// What an address is for. Gateways are shared (every network on the same pool uses the same gateway address,
/// and it is reference-counted); any other address belongs to exactly one holder.
public enum AddressRole: String, Sendable, Codable, Equatable {
    /// The network's gateway (`RequestAddressType: com.docker.network.gateway`).
    case gateway
    /// An endpoint's address, or an `--aux-address`.
    case endpoint
}

/// An address handed out by ``AddressAllocator/requestAddress(in:address:role:)``.
public struct AllocatedAddress: Sendable, Equatable {
    /// The address.
    public var address: IPv4Address
    /// The subnet of its pool, for writing it in CIDR form.
    public var subnet: IPv4Subnet

    public init(address: IPv4Address, subnet: IPv4Subnet) {
        self.address = address
        self.subnet = subnet
    }

    /// The address with its pool's prefix length, as Docker expects it (`10.1.0.2/24`).
    public var cidr: String { subnet.cidr(for: address) }
}

/// Hands out IPv4 pools and addresses. The local allocator implements it now; the cluster-wide IPAM (which
/// claims blocks of a pool through replicated tables) will implement it later, behind the same Docker glue.
///
/// Semantics every implementation keeps, because Docker relies on them:
/// - Requesting the same explicit subnet again returns the same pool ID and takes another reference; the pool
///   goes away only after as many releases.
/// - Releasing an unknown pool, an address in an unknown pool, or an address that is not allocated succeeds:
///   Docker may deliver a release twice (it retries on connection errors) and only logs release failures.
/// - A gateway request without an address gets the pool's first usable address; a gateway address is shared and
///   reference-counted, so the same gateway requested twice succeeds.
public protocol AddressAllocator: Sendable {
    /// Reserves a pool: the explicit subnet of `request`, or the next free subnet of the default range.
    func requestPool(_ request: PoolRequest) async throws(IPAMError) -> AllocatedPool

    /// Drops one reference to the pool; the pool and all its addresses are freed with the last one.
    func releasePool(_ id: PoolID) async throws(IPAMError)

    /// Allocates `address` in the pool, or any free address when it is `nil`.
    func requestAddress(in pool: PoolID, address: IPv4Address?, role: AddressRole) async throws(IPAMError)
        -> AllocatedAddress

    /// Frees `address` in the pool (or drops one reference to a shared gateway).
    func releaseAddress(_ address: IPv4Address, in pool: PoolID) async throws(IPAMError)

    /// Reserves the IPv6 pool of `request` (weft hands out IPv6 pools only for an explicit subnet).
    func requestPool6(_ request: PoolRequest6) async throws(IPAMError) -> AllocatedPool6

    /// Allocates `address` in the IPv6 pool, or any free address when it is `nil`.
    func requestAddress6(in pool: PoolID, address: IPv6Address?, role: AddressRole) async throws(IPAMError)
        -> AllocatedAddress6

    /// Frees `address` in the IPv6 pool (or drops one reference to a shared gateway).
    func releaseAddress6(_ address: IPv6Address, in pool: PoolID) async throws(IPAMError)
}
