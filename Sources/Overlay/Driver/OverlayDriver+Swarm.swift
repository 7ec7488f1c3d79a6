import Logging
import Netlink

/// Under swarm: the manager's VNI allocation (AllocateNetwork, FreeNetwork) and the address swarm advertises.
extension OverlayDriver {
    /// AllocateNetwork on a swarm manager: the network's VNI, unique among the networks this manager allocated,
    /// the networks on this host and those the cluster announces. A `weft.vni` in the options (the user's, or a
    /// previous leader's answer, which swarm merges into the request) is kept, or refused naming the network
    /// that holds it; a VNI derived from the subnet that another network holds moves on to the next free one.
    /// Idempotent per network ID.
    public func allocateNetwork(id: String, subnet: IPv4Subnet, options: NetworkOptions) async throws(DriverError) -> VNI {
        if let allocated = store.current.allocatedNetworks[id], allocated.subnet == subnet,
            options.vni.map({ $0 == allocated.vni }) ?? true
        {
            return allocated.vni
        }
        if options.encrypted, case .unavailable(let reason) = encryption {
            throw .encryptionUnavailable(network: id, reason: reason)
        }
        if allocating.isReserved(network: id) { throw .networkBusy(network: id) }
        var vni = NetworkPolicy.vni(options: options, subnet: subnet)
        if options.vni != nil {
            if let conflict = await reserveAllocation(vni, network: id, subnet: subnet) { throw conflict }
        } else {
            var tried = 0
            while let conflict = await reserveAllocation(vni, network: id, subnet: subnet) {
                tried += 1
                guard tried < 1024 else { throw conflict }
                vni = vni.next
            }
            if tried > 0 {
                logger.notice(
                    "derived VNI taken, allocated the next free one",
                    metadata: ["network": "\(id.prefix(12))", "subnet": "\(subnet)", "vni": "\(vni)", "skipped": "\(tried)"])
            }
        }
        defer { allocating.release(vni) }
        let allocation = SwarmAllocation(vni: vni, subnet: subnet)
        try save { $0.allocatedNetworks[id] = allocation }
        return vni
    }

    /// DiscoverNew in swarm mode: the address swarm advertises for this node. Remembered, so that weft starts
    /// with it next time when no advertise address is configured; a difference from the address weft uses now
    /// (its VXLAN endpoint and gossip address, fixed while it runs) is reported with the remedy.
    public func swarmAdvertised(_ text: String, configured: Bool) throws(DriverError) {
        guard let address = IPAddress(text) else {
            logger.warning("node discovery without a usable address, ignored", metadata: ["address": "\(text)"])
            return
        }
        if store.current.swarmAddress != address { try save { $0.swarmAddress = address } }
        guard address != host.advertiseAddress else {
            logger.debug("swarm advertises this node at weft's address", metadata: ["address": "\(address)"])
            return
        }
        logger.warning(
            "swarm advertises this node at another address than weft's VXLAN endpoint and gossip address",
            metadata: [
                "swarm": "\(address)", "weft": "\(host.advertiseAddress)",
                "remedy": configured
                    ? "check WEFT_ADVERTISE_ADDRESS / --advertise-address"
                    : "weft uses \(address) from its next start; set WEFT_ADVERTISE_ADDRESS=\(address) and re-enable the plugin to use it now",
            ])
    }

    /// FreeNetwork: the network's VNI is free again. Unknown networks succeed: Docker may retry.
    public func freeNetwork(id: String) throws(DriverError) {
        guard store.current.allocatedNetworks[id] != nil else { return }
        try save { $0.allocatedNetworks[id] = nil }
    }

    /// Reserves `vni` for allocating network `id`, or returns which other network holds it, as the error to give:
    /// one this manager allocated (or is allocating), one on this host (or being created), or one with another
    /// subnet anywhere in the cluster. The caller releases a reservation it got.
    func reserveAllocation(_ vni: VNI, network id: String, subnet: IPv4Subnet) async -> DriverError? {
        let state = store.current
        if let (other, allocation) = state.allocatedNetworks.first(where: { $0.key != id && $0.value.vni == vni }) {
            return .vniInUse(vni: vni, network: other, subnet: allocation.subnet)
        }
        if let other = state.networks.values.first(where: { $0.id != id && $0.vni == vni }) {
            return .vniInUse(vni: vni, network: other.id, subnet: other.subnet)
        }
        if let other = creating[vni], other.network != id {
            return .vniInUse(vni: vni, network: other.network, subnet: other.subnet)
        }
        if let holder = allocating.reserve(vni, for: .init(network: id, subnet: subnet)) {
            return .vniInUse(vni: vni, network: holder.network, subnet: holder.subnet)
        }
        if let other = await cluster?.conflictingNetwork(vni: vni, subnet: subnet) {
            allocating.release(vni)
            return .vniUsedElsewhere(vni: vni, subnet: other.subnet, host: other.host)
        }
        return nil
    }
}
