/// The allocator of a single host: every pool and address lives in this process.
///
/// It is what weft's IPAM driver uses until the cluster-wide allocator exists, and what `--dry-run` and tests
/// use. All state is in ``AllocatorState`` inside a ``StateStore``, so every allocation is on disk before Docker
/// hears of it (when the store has a file); ``snapshot()`` hands the state out for inspection.
public actor LocalAddressAllocator: AddressAllocator {
    /// Where pools requested without a subnet come from.
    public let configuration: AllocatorConfiguration
    private let store: StateStore

    /// Makes an allocator that keeps its state in `store` (the daemon's state file).
    public init(configuration: AllocatorConfiguration = .standard, store: StateStore) {
        self.configuration = configuration
        self.store = store
    }

    /// Makes an allocator in memory, optionally resuming from earlier state.
    public init(configuration: AllocatorConfiguration = .standard, state: AllocatorState = AllocatorState()) {
        var initial = PersistentState()
        initial.ipam = state
        self.init(configuration: configuration, store: StateStore(inMemory: initial))
    }

    /// A copy of the current state, for persistence or inspection.
    public func snapshot() -> AllocatorState {
        store.current.ipam
    }

    public func requestPool(_ request: PoolRequest) throws(IPAMError) -> AllocatedPool {
        let configuration = configuration
        return try change { (state: AllocatorState) throws(IPAMError) in
            try state.planPoolRequest(request, configuration: configuration)
        }
    }

    public func releasePool(_ id: PoolID) throws(IPAMError) {
        try change { (state: AllocatorState) in AllocatorChange(result: (), delta: state.planPoolRelease(id)) }
    }

    public func requestAddress(in pool: PoolID, address: IPv4Address?, role: AddressRole) throws(IPAMError)
        -> AllocatedAddress
    {
        let sharing = configuration.sharesRequestedAddresses
        return try change { (state: AllocatorState) throws(IPAMError) in
            try state.planAddressRequest(in: pool, address: address, role: role, sharing: sharing)
        }
    }

    public func releaseAddress(_ address: IPv4Address, in pool: PoolID) throws(IPAMError) {
        try change { (state: AllocatorState) throws(IPAMError) in
            AllocatorChange(result: (), delta: try state.planRelease(address, in: \.pools, id: pool))
        }
    }

    public func requestPool6(_ request: PoolRequest6) throws(IPAMError) -> AllocatedPool6 {
        try change { (state: AllocatorState) throws(IPAMError) in try state.planPoolRequest6(request) }
    }

    public func requestAddress6(in pool: PoolID, address: IPv6Address?, role: AddressRole) throws(IPAMError)
        -> AllocatedAddress6
    {
        let sharing = configuration.sharesRequestedAddresses
        return try change { (state: AllocatorState) throws(IPAMError) in
            try state.planAddressRequest6(in: pool, address: address, role: role, sharing: sharing)
        }
    }

    public func releaseAddress6(_ address: IPv6Address, in pool: PoolID) throws(IPAMError) {
        try change { (state: AllocatorState) throws(IPAMError) in
            AllocatorChange(result: (), delta: try state.planRelease(address, in: \.pools6, id: pool))
        }
    }

    /// Works out an allocation change from the current state and saves it as a delta, so it is on disk before it
    /// is answered and costs the change, not the state's size.
    private func change<T>(_ plan: (AllocatorState) throws(IPAMError) -> AllocatorChange<T>) throws(IPAMError) -> T {
        do {
            return try store.apply { (state: PersistentState) throws(IPAMError) -> (result: T, delta: StateDelta?) in
                let change = try plan(state.ipam)
                return (change.result, StateDelta.ipam(change.delta))
            }
        } catch let error as IPAMError {
            throw error
        } catch {
            throw .persistence("\(error)")
        }
    }
}
