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
    /// An IPv6 subnet came in a request for an IPv4 pool.
    case ipv6NotSupported
    /// An IPv6 pool was asked for without a subnet.
    case ipv6SubnetRequired
    /// An `--ip-range` was given for an IPv6 pool.
    case ipv6RangeNotSupported(IPv6Subnet)
    /// No free address left in the IPv6 pool.
    case poolExhausted6(pool: IPv6Subnet)
    /// The requested IPv6 address (`--ip6`, `--gateway`) is not in the pool.
    case addressOutsidePool6(IPv6Address, pool: IPv6Subnet)
    /// The requested IPv6 address is the pool's subnet-router anycast address.
    case addressNotAssignable6(IPv6Address, pool: IPv6Subnet)
    /// The requested IPv6 address is already allocated in the pool.
    case addressInUse6(IPv6Address, pool: IPv6Subnet)
    /// The IPv6 subnet leaves no room for a gateway and endpoints.
    case poolTooSmall6(IPv6Subnet)
    /// An IPv6 subnet shorter than /64 came without a block size.
    case ipv6BlockRequired(IPv6Subnet)
    /// The block size does not fit the IPv6 pool.
    case invalidIPv6Block(Int, pool: IPv6Subnet)
    /// The block size option is not a prefix length.
    case invalidIPv6BlockOption(String)
    /// The IPv6 pool is held with another block size.
    case ipv6BlockMismatch(IPv6Subnet, existing: Int, requested: Int)
    /// The IPv6 subnet overlaps another IPv6 pool.
    case overlappingIPv6Pool(IPv6Subnet, existing: IPv6Subnet)
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
            "an IPv6 subnet in a request for an IPv4 pool (Docker asks for IPv6 pools with V6 set, for --ipv6 networks)"
        case .ipv6SubnetRequired:
            "--ipv6 needs an IPv6 --subnet (such as fd00:30::/64): weft's IPAM does not pick IPv6 pools itself"
        case .ipv6RangeNotSupported(let pool):
            "--ip-range is not supported for the IPv6 pool \(pool); give the range as its own --subnet"
        case .poolExhausted6(let pool):
            "IPv6 pool \(pool) has no free address"
        case .addressOutsidePool6(let address, let pool):
            "address \(address) (--ip6) is outside the IPv6 pool \(pool) (the network's --subnet)"
        case .addressNotAssignable6(let address, let pool):
            "address \(address) (--ip6) is the subnet-router address of IPv6 pool \(pool) and cannot be assigned"
        case .addressInUse6(let address, let pool):
            "address \(address) in IPv6 pool \(pool) is already taken"
        case .poolTooSmall6(let pool):
            "--subnet \(pool) is too small for a pool: an IPv6 pool needs /\(PoolRequest6.longestPool) or larger"
        case .ipv6BlockRequired(let pool):
            "--subnet \(pool) is shorter than /64: give the size of the blocks hosts claim with "
                + "--ipam-opt \(PoolRequest6.blockOption)=N (a prefix length such as 80)"
        case .invalidIPv6Block(let block, let pool):
            "--ipam-opt \(PoolRequest6.blockOption)=\(block) does not fit --subnet \(pool): the blocks need a prefix "
                + "from /\(pool.prefixLength) to /\(PoolRequest6.longestPool), at most \(PoolRequest6.maxBlockBits) bits longer than the pool's"
        case .invalidIPv6BlockOption(let text):
            "--ipam-opt \(PoolRequest6.blockOption)=\(text) is not a prefix length (such as 80)"
        case .ipv6BlockMismatch(let pool, let existing, let requested):
            "--ipam-opt \(PoolRequest6.blockOption)=\(requested) differs from the /\(existing) blocks IPv6 pool \(pool) already has"
        case .overlappingIPv6Pool(let pool, let existing):
            "--subnet \(pool) overlaps the IPv6 pool \(existing) of another network"
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
