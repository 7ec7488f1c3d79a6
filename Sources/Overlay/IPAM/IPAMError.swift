/// Why an IPAM request was refused. Each description names the pool or address concerned, because it reaches
/// the user verbatim through Docker (`docker network create` / `docker run`).
public enum IPAMError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No free address left where the request may allocate (the whole pool, or its `--ip-range`).
    case poolExhausted(pool: IPv4Subnet, range: IPv4Subnet?)
    /// The requested address does not belong to the pool.
    case addressOutsidePool(IPv4Address, pool: IPv4Subnet)
    /// The requested address is the pool's network or broadcast address.
    case addressNotAssignable(IPv4Address, pool: IPv4Subnet)
    /// The requested address is already allocated in the pool.
    case addressInUse(IPv4Address, pool: IPv4Subnet)
    /// The pool ID was never handed out, or the pool has been released.
    case unknownPool(PoolID)
    /// An IPv6 pool was asked for; weft's IPAM is IPv4 only.
    case ipv6NotSupported
    /// No subnet was given and every candidate subnet of the default range is already in use.
    case defaultRangeExhausted(range: IPv4Subnet, prefixLength: Int)
    /// The subnet leaves no room for a gateway and an endpoint.
    case poolTooSmall(IPv4Subnet)
    /// The `--ip-range` is not inside the `--subnet`.
    case rangeOutsidePool(range: IPv4Subnet, pool: IPv4Subnet)
    /// An `--ip-range` came without a `--subnet`.
    case rangeWithoutSubnet(IPv4Subnet)
    /// A subnet or address in the request did not parse.
    case invalidInput(IPAddressParseError)
    /// The allocator's configuration is inconsistent.
    case invalidConfiguration(String)
    /// The allocation was made but could not be saved, so it was undone.
    case persistence(String)

    public var description: String {
        switch self {
        case .poolExhausted(let pool, nil):
            "pool \(pool) has no free address"
        case .poolExhausted(let pool, let range?):
            "address range \(range) of pool \(pool) has no free address"
        case .addressOutsidePool(let address, let pool):
            "address \(address) is outside pool \(pool)"
        case .addressNotAssignable(let address, let pool):
            "address \(address) is the \(address == pool.network ? "network" : "broadcast") address of pool \(pool) "
                + "and cannot be assigned"
        case .addressInUse(let address, let pool):
            "address \(address) in pool \(pool) is already taken"
        case .unknownPool(let id):
            "no pool with ID \"\(id)\" (never requested, or already released)"
        case .ipv6NotSupported:
            "IPv6 pools are not supported: weft's IPAM is IPv4 only (create the network without --ipv6)"
        case .defaultRangeExhausted(let range, let prefixLength):
            "no free /\(prefixLength) left in the default range \(range); pass --subnet to choose one"
        case .poolTooSmall(let pool):
            "subnet \(pool) is too small for a pool: it needs room for a gateway and an endpoint (/30 or larger)"
        case .rangeOutsidePool(let range, let pool):
            "address range \(range) is not inside pool \(pool)"
        case .rangeWithoutSubnet(let range):
            "address range \(range) was given without a subnet"
        case .invalidInput(let error):
            error.description
        case .invalidConfiguration(let reason):
            "invalid IPAM configuration: \(reason)"
        case .persistence(let detail):
            "the allocation could not be saved: \(detail)"
        }
    }
}
