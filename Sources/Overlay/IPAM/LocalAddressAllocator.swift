/// The allocator of a single host: every pool and address lives in this process.
///
/// It is what weft's IPAM driver uses until the cluster-wide allocator exists, and what `--dry-run` and tests
/// use. All state is in ``AllocatorState``; this actor serialises access to it, and ``snapshot()`` hands it out
/// for persistence.
public actor LocalAddressAllocator: AddressAllocator {
    /// Where pools requested without a subnet come from.
    public let configuration: AllocatorConfiguration
    private var state: AllocatorState

    /// Makes an allocator, optionally resuming from persisted state.
    public init(configuration: AllocatorConfiguration = .standard, state: AllocatorState = AllocatorState()) {
        self.configuration = configuration
        self.state = state
    }

    /// A copy of the current state, for persistence or inspection.
    public func snapshot() -> AllocatorState {
        state
    }

    public func requestPool(_ request: PoolRequest) throws(IPAMError) -> AllocatedPool {
        try state.requestPool(request, configuration: configuration)
    }

    public func releasePool(_ id: PoolID) {
        state.releasePool(id)
    }

    public func requestAddress(in pool: PoolID, address: IPv4Address?, role: AddressRole) throws(IPAMError)
        -> AllocatedAddress
    {
        try state.requestAddress(in: pool, address: address, role: role)
    }

    public func releaseAddress(_ address: IPv4Address, in pool: PoolID) throws(IPAMError) {
        try state.releaseAddress(address, in: pool)
    }
}
