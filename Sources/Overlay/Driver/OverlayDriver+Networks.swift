import Logging
import Netlink

/// Networks: CreateNetwork and DeleteNetwork, each reserving its VNI before its first await.
extension OverlayDriver {
    public func createNetwork(_ request: NetworkCreation) async throws(DriverError) {
        guard let pool = request.ipv4Pools.first else { throw .noIPv4Pool(network: request.id) }
        guard request.ipv4Pools.count == 1 else {
            throw .multipleIPv4Pools(network: request.id, count: request.ipv4Pools.count)
        }
        guard request.ipv6Pools.count <= 1 else {
            throw .multipleIPv6Pools(network: request.id, count: request.ipv6Pools.count)
        }
        if request.ipv6Requested, request.ipv6Pools.isEmpty { throw .ipv6NotSupported(network: request.id) }
        if request.options.encrypted, case .unavailable(let reason) = encryption {
            throw .encryptionUnavailable(network: request.id, reason: reason)
        }
        let pool6 = request.ipv6Pools.first
        let record = NetworkRecord(
            id: request.id, vni: NetworkPolicy.vni(options: request.options, subnet: pool.subnet),
            subnet: pool.subnet, gateway: pool.gateway, mtu: NetworkPolicy.mtu(options: request.options, host: host),
            isInternal: request.isInternal, subnet6: pool6?.subnet, gateway6: pool6?.gateway,
            encrypted: request.options.encrypted, relay: request.options.relay)
        var savedHere = false
        if let existing = store.current.networks[record.id] {
            guard existing == record else {
                throw .networkRedefined(network: record.id, existing: Self.summary(existing), requested: Self.summary(record))
            }
        } else {
            if let other = store.current.networks.values.first(where: { $0.vni == record.vni }) {
                throw .vniInUse(vni: record.vni, network: other.id, subnet: other.subnet)
            }
            // Claimed before the await, so a concurrent request for the VNI (or this network) is refused.
            if creating.isReserved(network: record.id) { throw .networkBusy(network: record.id) }
            if let holder = creating.reserve(record.vni, for: .init(network: record.id, subnet: record.subnet)) {
                throw .vniInUse(vni: record.vni, network: holder.network, subnet: holder.subnet)
            }
            defer { creating.release(record.vni) }
            if let other = await cluster?.conflictingNetwork(vni: record.vni, subnet: record.subnet) {
                throw .vniUsedElsewhere(vni: record.vni, subnet: other.subnet, host: other.host)
            }
            try save { $0.networks[record.id] = record }
            savedHere = true
        }
        // A failure undoes only what this call made: its record, and the namespace if it was not there before.
        let namespaceExisted = backend.namespaceExists(layout(for: record).namespace)
        do throws(DriverError) {
            try reconcile(record, reason: .create)
        } catch {
            if savedHere {
                try? save { $0.networks[record.id] = nil }
                if !namespaceExisted { removeNamespace(of: record) }
            }
            throw error
        }
        logger.info("network ready", metadata: ["network": "\(record.shortID)", "vni": "\(record.vni)",
                                                "subnet": "\(record.subnet)", "subnet6": "\(record.subnet6.map { "\($0)" } ?? "none")",
                                                "mtu": "\(record.mtu)"])
        if let cluster {
            await cluster.announce(announcement(of: record))
            await programRemote([record.vni], .repair)
        } else if record.isEncrypted {
            await refreshEncryption()
        }
    }

    /// Removes the network and everything weft made for it. Unknown networks succeed: Docker may retry.
    public func deleteNetwork(id: String) async throws(DriverError) {
        guard let record = store.current.networks[id] else { return }
        let endpoints = store.current.endpoints(of: id)
        try save { state in
            state.networks[id] = nil
            for endpoint in endpoints { state.endpoints[endpoint.id] = nil }
        }
        for endpoint in endpoints { linkNames.remove(endpoint.id) }
        // Host ends of endpoints never joined are still in the host namespace.
        if let session = try? hostNamespace() {
            let hostEnds = endpoints.map { NetlinkOperation.deleteLink(.name(KernelLayout.hostEnd(endpoint: $0.id))) }
            _ = session.apply(hostEnds)
        }
        removeNamespace(of: record)
        programmedRemote[record.vni] = nil
        encryptedReachable[record.vni] = nil
        await cluster?.withdraw(network: record.vni)
        if record.isEncrypted { await refreshEncryption() }
        logger.info("network removed", metadata: ["network": "\(record.shortID)", "vni": "\(record.vni)"])
    }

    public func network(id: String) -> NetworkRecord? { store.current.networks[id] }

    /// CreateNetwork and AllocateNetwork requests that have claimed their VNI and not finished (waiting for the
    /// cluster's view, or saving): for status, and for tests that race requests.
    public var networkRequestsInProgress: Int { creating.count + allocating.count }
}
