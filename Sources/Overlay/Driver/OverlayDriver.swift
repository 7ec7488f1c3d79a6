import Logging
import Netlink

/// The overlay network driver of one host: turns Docker's network and endpoint lifecycle into kernel state
/// (a namespace per network with a bridge and a VXLAN port; a veth pair per endpoint) and keeps it, with its
/// records, across restarts.
///
/// State is saved before the kernel is changed and the kernel is brought to the saved state by the
/// ``Reconciler``, so every request is idempotent (Docker retries) and a crash anywhere leaves a state that
/// the next start converges from.
public actor OverlayDriver {
    public let host: HostSettings
    private let backend: any NetlinkBackend
    private let store: StateStore
    private let logger: Logger
    private var hostSession: NetlinkSession?
    private var networkSessions: [VNI: NetlinkSession] = [:]
    /// Kernel corrections made by reconciliation since start, for visibility.
    public private(set) var corrections = 0

    /// The namespace Docker's side of every endpoint lives in: the process's own, except in tests.
    private let hostNamespaceReference: NamespaceReference
    /// The replicated tables shared with the other hosts; nil for a host on its own.
    private let cluster: ClusterState?
    /// Networks whose remote entries need reprogramming, and how; and whether a pass is running (see
    /// ``remoteChanged(_:)``).
    private var pendingRemote: [VNI: RemotePass] = [:]
    private var reconcilingRemote = false
    /// VNIs claimed by CreateNetwork and AllocateNetwork requests between their checks and their save.
    private var creating = VNIReservations()
    private var allocating = VNIReservations()
    /// Per network, the remote entries last written to its VXLAN device (the desired state then), so that the
    /// next change is applied as a difference. Absent until a repair pass has read the kernel, and dropped when a
    /// write fails.
    private var programmedRemote: [VNI: RemoteProgram] = [:]

    public init(
        host: HostSettings, backend: any NetlinkBackend, store: StateStore, logger: Logger,
        hostNamespace: NamespaceReference = .current, cluster: ClusterState? = nil
    ) {
        self.host = host
        self.backend = backend
        self.store = store
        self.logger = logger
        self.hostNamespaceReference = hostNamespace
        self.cluster = cluster
    }

    // MARK: Start

    /// Adopts what the kernel holds: reconciles every saved network (creating only what is missing or wrong,
    /// tearing nothing down that is right) and removes weft objects that belong to no saved network or endpoint.
    public func start() async throws(DriverError) {
        let state = store.current
        for record in state.networks.values.sorted(by: { $0.vni < $1.vni }) {
            do throws(DriverError) {
                try reconcile(record, reason: "start")
            } catch {
                logger.error("network could not be restored", metadata: ["network": "\(record.shortID)", "error": "\(error)"])
            }
        }
        let known = Set(state.networks.values.map { layout(for: $0).namespace.path })
        for namespace in backend.namespaces(in: host.namespaceDirectory) where !known.contains(namespace.path) {
            let name = String(namespace.path.split(separator: "/").last ?? "")
            guard KernelLayout.vni(fromNamespaceName: name) != nil else { continue }
            do throws(NetlinkError) {
                try backend.deleteNamespace(namespace)
                corrections += 1
                logger.notice("removed a namespace of no network", metadata: ["namespace": "\(namespace.path)"])
            } catch {
                logger.warning("cannot remove stale namespace", metadata: ["namespace": "\(namespace.path)", "error": "\(error)"])
            }
        }
        let session = try hostNamespace()
        let hostEnds = Set(state.endpoints.keys.map(KernelLayout.hostEnd(endpoint:)))
        let cleanup = Reconciler.planHostCleanup(hostLinks: try kernel("dump the host's links") { try session.links() },
                                                 knownHostEnds: hostEnds)
        for (operation, outcome) in zip(cleanup, session.apply(cleanup)) {
            corrections += 1
            logger.notice("removed a leftover link", metadata: ["operation": "\(operation)", "outcome": "\(outcome)"])
        }
        // Tell the cluster again what this host has (versions stay above those written before a restart).
        if let cluster {
            for network in state.networks.values { await cluster.announce(announcement(of: network)) }
            for endpoint in state.endpoints.values {
                if let network = state.networks[endpoint.networkID] { await cluster.announce(announcement(of: endpoint, in: network)) }
            }
            await reconcileAllRemote()
        }
    }

    // MARK: Networks

    public func createNetwork(_ request: NetworkCreation) async throws(DriverError) {
        if request.ipv6Requested { throw .ipv6NotSupported(network: request.id) }
        guard let pool = request.ipv4Pools.first else { throw .noIPv4Pool(network: request.id) }
        guard request.ipv4Pools.count == 1 else {
            throw .multipleIPv4Pools(network: request.id, count: request.ipv4Pools.count)
        }
        let record = NetworkRecord(
            id: request.id, vni: try NetworkPolicy.vni(options: request.options, subnet: pool.subnet),
            subnet: pool.subnet, gateway: pool.gateway, mtu: try NetworkPolicy.mtu(options: request.options, host: host),
            isInternal: request.isInternal)
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
            try reconcile(record, reason: "create")
        } catch {
            if savedHere {
                try? save { $0.networks[record.id] = nil }
                if !namespaceExisted { removeNamespace(of: record) }
            }
            throw error
        }
        logger.info("network ready", metadata: ["network": "\(record.shortID)", "vni": "\(record.vni)",
                                                "subnet": "\(record.subnet)", "mtu": "\(record.mtu)"])
        if let cluster {
            await cluster.announce(announcement(of: record))
            await programRemote([record.vni], .repair)
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
        // Host ends of endpoints never joined are still in the host namespace.
        if let session = try? hostNamespace() {
            let hostEnds = endpoints.map { NetlinkOperation.deleteLink(.name(KernelLayout.hostEnd(endpoint: $0.id))) }
            _ = session.apply(hostEnds)
        }
        removeNamespace(of: record)
        programmedRemote[record.vni] = nil
        await cluster?.withdraw(network: record.vni)
        logger.info("network removed", metadata: ["network": "\(record.shortID)", "vni": "\(record.vni)"])
    }

    public func network(id: String) -> NetworkRecord? { store.current.networks[id] }

    // MARK: Swarm allocation

    /// AllocateNetwork on a swarm manager: the network's VNI, unique among the networks this manager allocated,
    /// the networks on this host and those the cluster announces. A `weft.vni` in the options (the user's, or a
    /// previous leader's answer, which swarm merges into the request) is kept, or refused naming the network
    /// that holds it; a VNI derived from the subnet that another network holds moves on to the next free one.
    /// Idempotent per network ID.
    public func allocateNetwork(id: String, subnet: IPv4Subnet, options: [String: String]) async throws(DriverError) -> VNI {
        if let allocated = store.current.allocatedNetworks[id], allocated.subnet == subnet,
            options[NetworkPolicy.vniOption].map({ $0 == "\(allocated.vni)" }) ?? true
        {
            return allocated.vni
        }
        if allocating.isReserved(network: id) { throw .networkBusy(network: id) }
        var vni = try NetworkPolicy.vni(options: options, subnet: subnet)
        if options[NetworkPolicy.vniOption] != nil {
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
    private func reserveAllocation(_ vni: VNI, network id: String, subnet: IPv4Subnet) async -> DriverError? {
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

    // MARK: Endpoints

    /// Creates the endpoint's veth pair: one end in the host namespace for Docker to move into the container,
    /// the other a port of the network's bridge. Returns the endpoint, whose MAC is weft's choice unless Docker
    /// gave one.
    public func createEndpoint(_ request: EndpointCreation) async throws(DriverError) -> EndpointRecord {
        guard let network = store.current.networks[request.networkID] else { throw .unknownNetwork(request.networkID) }
        let object = "endpoint \(request.endpointID.prefix(12))"
        let (address, prefixLength) = try Self.parseCIDR(request.address, object: object)
        guard network.subnet.contains(address) else {
            throw .invalidAddress(object: "\(object) (network subnet \(network.subnet))", value: request.address)
        }
        var record: EndpointRecord
        if let existing = store.current.endpoints[request.endpointID] {
            guard existing.networkID == request.networkID, existing.address == address else {
                throw .endpointRedefined(endpoint: request.endpointID,
                                         reason: "it has address \(existing.address) on network \(existing.networkID.prefix(12))")
            }
            record = existing
            try checkLinkNames(of: record, in: network)
        } else {
            try checkLinkNameFree(endpoint: request.endpointID)
            let mac: MACAddress
            if request.macAddress.isEmpty {
                mac = .randomLocallyAdministered()
            } else {
                guard let given = MACAddress(request.macAddress) else {
                    throw .invalidOption(name: "MacAddress", value: request.macAddress, reason: "not a MAC address")
                }
                mac = given
            }
            record = EndpointRecord(id: request.endpointID, networkID: network.id, address: address,
                                    prefixLength: prefixLength, mac: mac, macChosenByWeft: request.macAddress.isEmpty)
            try checkLinkNames(of: record, in: network)
            try save { $0.endpoints[record.id] = record }
        }
        do throws(DriverError) {
            try attach(record, to: network)
        } catch {
            try? save { $0.endpoints[record.id] = nil }
            detach(record, from: network)
            throw error
        }
        logger.info("endpoint ready", metadata: ["endpoint": "\(record.shortID)", "network": "\(network.shortID)",
                                                 "address": "\(record.address)", "mac": "\(record.mac)"])
        await cluster?.announce(announcement(of: record, in: network))
        announceLocally(record, in: network)
        return record
    }

    public func endpoint(network: String, endpoint: String) throws(DriverError) -> EndpointRecord {
        guard let record = store.current.endpoints[endpoint], record.networkID == network else {
            if store.current.networks[network] == nil { throw .unknownNetwork(network) }
            throw .unknownEndpoint(endpoint: endpoint, network: network)
        }
        return record
    }

    /// Names the link Docker moves into the container; it must still be in the host namespace.
    public func join(network: String, endpoint: String) throws(DriverError) -> JoinInfo {
        let record = try self.endpoint(network: network, endpoint: endpoint)
        let name = KernelLayout.hostEnd(endpoint: record.id)
        let session = try hostNamespace()
        guard try kernel("look up \(name)", { try session.link(.name(name)) }) != nil else {
            throw .kernel(action: "endpoint \(record.shortID)",
                          error: .unknownLink(name: name, namespace: session.namespace.reference.description))
        }
        return JoinInfo(interfaceName: name)
    }

    /// Leave needs no kernel change: Docker moves the interface back and DeleteEndpoint removes it.
    public func leave(network: String, endpoint: String) throws(DriverError) {
        if store.current.networks[network] == nil { throw .unknownNetwork(network) }
    }

    /// Removes the endpoint's veth pair. Unknown endpoints succeed: Docker may retry.
    public func deleteEndpoint(network: String, endpoint: String) async throws(DriverError) {
        guard let record = store.current.endpoints[endpoint], record.networkID == network else { return }
        try save { $0.endpoints[endpoint] = nil }
        if let networkRecord = store.current.networks[network] {
            detach(record, from: networkRecord)
            await cluster?.withdraw(endpoint: announcement(of: record, in: networkRecord).key)
        }
        logger.info("endpoint removed", metadata: ["endpoint": "\(record.shortID)", "network": "\(network.prefix(12))"])
    }

    // MARK: Remote endpoints

    /// Reprograms the networks whose remote state changed, each by the difference from what was last written:
    /// a constant number of kernel operations per remote change, whatever the size of the network. Calls that
    /// arrive while a pass runs are folded into the next pass, so a burst of gossip costs a few passes, not one
    /// per message.
    public func remoteChanged(_ vnis: Set<VNI>) async {
        await programRemote(vnis, .change)
    }

    /// Every network, as the periodic pass does: reads each VXLAN device back and corrects whatever drifted (an
    /// entry removed by hand, a missed message, a failed write).
    public func reconcileAllRemote() async {
        await programRemote(Set(store.current.networks.values.map(\.vni)), .repair)
    }

    /// One lane for every remote pass, so that a pass never writes a desired state older than one already written.
    private func programRemote(_ vnis: Set<VNI>, _ pass: RemotePass) async {
        for vni in vnis { pendingRemote[vni] = max(pendingRemote[vni] ?? pass, pass) }
        guard !reconcilingRemote else { return }
        reconcilingRemote = true
        while !pendingRemote.isEmpty {
            let batch = pendingRemote
            pendingRemote = [:]
            for (network, pass) in store.current.networks.values.compactMap({ n in batch[n.vni].map { (n, $0) } })
                .sorted(by: { $0.0.vni < $1.0.vni })
            {
                await programRemote(network, pass)
            }
        }
        reconcilingRemote = false
    }

    /// Brings one network's VXLAN device to the cluster's view: an FDB and a neighbour entry per remote endpoint,
    /// a flooding entry per remote host. A change is applied as the difference from the programmed state; a
    /// repair (or a network with nothing programmed yet) compares with a dump of the device. Each pass logs one
    /// summary line; each entry is logged at debug.
    private func programRemote(_ network: NetworkRecord, _ pass: RemotePass) async {
        guard let cluster else { return }
        let remotes = await cluster.remoteEndpoints(vni: network.vni)
        let hosts = await cluster.remoteHosts(vni: network.vni).union(remotes.map(\.vtep))
        // Before the tables are known complete, only add: a restarted weft must not remove what still works.
        let removalsAllowed = await cluster.isSynchronized
        // The network may have gone while this pass waited for the cluster.
        guard store.current.networks[network.id] == network else { return }
        let desired = RemoteProgram(remotes: remotes, hosts: hosts)
        let previous = programmedRemote[network.vni]
        do throws(DriverError) {
            let session = try networkNamespace(network)
            let device = LinkReference.index(try kernel("network \(network.shortID)") {
                try session.index(of: .name(layout(for: network).vxlanName))
            })
            let plan: [NetlinkOperation]
            let oldNeighbours: [IPAddress: MACAddress]
            if pass == .change, let previous {
                plan = Reconciler.planRemoteChange(vxlan: device, from: previous, to: desired)
                oldNeighbours = previous.neighbours
            } else {
                let (fdb, neighbours) = try kernel("network \(network.shortID)") {
                    (try session.forwardingDatabase(device: device), try session.neighbours(device: device))
                }
                plan = Reconciler.planRemote(vxlan: device, remotes: remotes, remoteHosts: hosts, fdb: fdb, neighbours: neighbours)
                var permanent: [IPAddress: MACAddress] = [:]
                for entry in neighbours where entry.state.contains(.permanent) { permanent[entry.address] = entry.mac }
                oldNeighbours = permanent
            }
            let allowed = plan.filter { operation in
                switch operation {
                case .deleteFDB, .deleteNeighbour: removalsAllowed
                default: true
                }
            }
            guard !allowed.isEmpty else {
                programmedRemote[network.vni] = desired
                return
            }
            let outcomes = session.apply(allowed)
            var failures = 0
            for (operation, outcome) in zip(allowed, outcomes) {
                if case .failure(let error) = outcome {
                    failures += 1
                    logger.warning("cannot program a remote entry", metadata: [
                        "network": "\(network.shortID)", "operation": "\(operation)", "error": "\(error)"])
                } else {
                    logger.debug("programmed a remote entry", metadata: ["network": "\(network.shortID)", "operation": "\(operation)"])
                }
            }
            // After a failed write the kernel is not what was planned: the next pass reads it back.
            programmedRemote[network.vni] = failures == 0 ? desired : nil
            remoteCorrections += allowed.count
            let removed = allowed.count { if case .deleteFDB = $0 { true } else if case .deleteNeighbour = $0 { true } else { false } }
            logger.info("\(Self.netTag(network)): +\(allowed.count - removed) −\(removed) remote entries", metadata: [
                "pass": "\(pass)", "failed": "\(failures)", "remote endpoints": "\(remotes.count)", "remote hosts": "\(hosts.count)",
            ])
            announceMoves(in: network, session: session, written: allowed, previous: oldNeighbours)
        } catch {
            programmedRemote[network.vni] = nil
            logger.warning("cannot program remote entries", metadata: ["network": "\(network.shortID)", "error": "\(error)"])
        }
    }

    /// `net 00002a`: a network as the per-pass summary names it (by VNI, the name every host shares).
    private static func netTag(_ network: NetworkRecord) -> String {
        "net \(KernelLayout(vni: network.vni, namespaceDirectory: "").vniTag)"
    }

    /// Local containers may still have a moved address's old MAC in their ARP caches, and the VXLAN device
    /// (answering ARP itself) lets no ARP from the new place through: a gratuitous ARP on the bridge, from the
    /// new MAC, updates them at once. Sent for every remote address that is written or changes its MAC.
    private func announceMoves(
        in network: NetworkRecord, session: NetlinkSession, written: [NetlinkOperation], previous old: [IPAddress: MACAddress]
    ) {
        var bridgeIndex: Int32?
        for case .writeNeighbour(let entry, _) in written {
            // Also when the address had no entry: it may have been local a moment ago, or its old entry may
            // have been withdrawn before the new one arrived. A gratuitous ARP changes only caches that hold it.
            guard let mac = entry.mac, old[entry.address] != mac else { continue }
            do throws(NetlinkError) {
                let bridge: Int32
                if let bridgeIndex { bridge = bridgeIndex } else { bridge = try session.index(of: .name(layout(for: network).bridgeName)) }
                try backend.send(GratuitousARP(address: entry.address, mac: mac, device: bridge), in: session.namespace)
                bridgeIndex = bridge
                logger.debug("announced a moved address", metadata: ["network": "\(network.shortID)", "address": "\(entry.address)", "mac": "\(mac)"])
            } catch {
                logger.warning("cannot announce a moved address", metadata: ["address": "\(entry.address)", "error": "\(error)"])
            }
        }
    }

    /// A new endpoint may take an address that was elsewhere a moment ago (a container moved here with the same
    /// `--ip`): tell the local containers its MAC, as for a remote move.
    private func announceLocally(_ endpoint: EndpointRecord, in network: NetworkRecord) {
        guard cluster != nil, let session = try? networkNamespace(network),
            let bridge = try? session.index(of: .name(layout(for: network).bridgeName))
        else { return }
        let arp = GratuitousARP(address: .v4(endpoint.address.bytes), mac: endpoint.mac, device: bridge)
        do throws(NetlinkError) {
            try backend.send(arp, in: session.namespace)
        } catch {
            logger.debug("cannot announce an endpoint", metadata: ["endpoint": "\(endpoint.shortID)", "error": "\(error)"])
        }
    }

    /// FDB and neighbour changes made for remote endpoints since start.
    public private(set) var remoteCorrections = 0

    private func announcement(of network: NetworkRecord) -> NetworkAnnouncement {
        NetworkAnnouncement(vni: network.vni, subnet: network.subnet, host: cluster?.node ?? "", vtep: host.advertiseAddress)
    }

    private func announcement(of endpoint: EndpointRecord, in network: NetworkRecord) -> EndpointAnnouncement {
        EndpointAnnouncement(
            vni: network.vni, endpointID: endpoint.id, address: endpoint.address, mac: endpoint.mac,
            host: cluster?.node ?? "", vtep: host.advertiseAddress)
    }

    // MARK: Kernel

    private func layout(for network: NetworkRecord) -> KernelLayout {
        KernelLayout(vni: network.vni, namespaceDirectory: host.namespaceDirectory)
    }

    private func desired(_ network: NetworkRecord) -> DesiredNetwork {
        let ends = store.current.endpoints(of: network.id).map { KernelLayout.bridgeEnd(endpoint: $0.id) }
        return DesiredNetwork(
            layout: layout(for: network), mtu: network.mtu,
            vxlan: VXLANConfig(vni: network.vni, port: host.vxlanPort, local: host.advertiseAddress),
            bridgeEnds: Set(ends))
    }

    /// Brings the network's namespace to its desired state and logs every correction.
    private func reconcile(_ network: NetworkRecord, reason: String) throws(DriverError) {
        let action = "network \(network.shortID) (VNI \(network.vni))"
        let session = try networkNamespace(network)
        let hostSession = try hostNamespace()
        let plan = Reconciler.plan(
            desired(network),
            networkLinks: try kernel(action) { try session.links() },
            hostLinks: try kernel(action) { try hostSession.links() },
            namespaceFD: session.namespace.fd)
        var index = plan.steps.startIndex
        while index < plan.steps.endIndex {
            let scope = plan.steps[index].scope
            let end = plan.steps[index...].firstIndex { $0.scope != scope } ?? plan.steps.endIndex
            let operations = plan.steps[index..<end].map { $0.operation }
            for operation in operations {
                logger.debug("reconcile", metadata: ["reason": "\(reason)", "network": "\(network.shortID)", "operation": "\(operation)"])
            }
            try kernel(action) { try (scope == .host ? hostSession : session).perform(operations) }
            index = end
        }
        if reason == "start", !plan.isEmpty {
            corrections += plan.steps.count
            logger.notice("corrected kernel state", metadata: ["network": "\(network.shortID)", "changes": "\(plan.steps.count)"])
        }
        for lost in plan.lostBridgeEnds {
            logger.warning("endpoint lost its bridge port", metadata: ["network": "\(network.shortID)", "link": "\(lost)"])
        }
    }

    /// Link names hold 11 characters of the endpoint ID: refuses an ID whose names another endpoint has, or that
    /// cannot be an interface name.
    private func checkLinkNameFree(endpoint id: String) throws(DriverError) {
        let hostEnd = KernelLayout.hostEnd(endpoint: id)
        if let problem = LinkName.problem(with: hostEnd) ?? LinkName.problem(with: KernelLayout.bridgeEnd(endpoint: id)) {
            throw .invalidOption(name: "EndpointID", value: id, reason: problem)
        }
        if let other = store.current.endpoints.values.first(where: { $0.id != id && KernelLayout.hostEnd(endpoint: $0.id) == hostEnd }) {
            throw .linkNameTaken(
                endpoint: id, link: hostEnd,
                reason: "endpoint \(other.id.prefix(12)) on network \(other.networkID.prefix(12)) has it (both IDs begin with \(id.prefix(11)))")
        }
    }

    /// Links already named as the endpoint's ends are adopted only when they are its own: veths, the host end with
    /// the endpoint's MAC. Anything else under the name is refused, never taken over (nor removed).
    private func checkLinkNames(of endpoint: EndpointRecord, in network: NetworkRecord) throws(DriverError) {
        let action = "endpoint \(endpoint.shortID)"
        let hostEnd = KernelLayout.hostEnd(endpoint: endpoint.id)
        let bridgeEnd = KernelLayout.bridgeEnd(endpoint: endpoint.id)
        let hostSession = try hostNamespace()
        if let link = try kernel(action, { try hostSession.link(.name(hostEnd)) }), link.kind != "veth" || link.mac != endpoint.mac {
            let found = "a \(link.kind ?? "link") with MAC \(link.mac.map { "\($0)" } ?? "none")"
            throw .linkNameTaken(endpoint: endpoint.id, link: hostEnd,
                                 reason: "the host namespace has \(found), not this endpoint's veth (MAC \(endpoint.mac))")
        }
        let session = try networkNamespace(network)
        if let link = try kernel(action, { try session.link(.name(bridgeEnd)) }), link.kind != "veth" {
            throw .linkNameTaken(endpoint: endpoint.id, link: bridgeEnd,
                                 reason: "the network namespace has a \(link.kind ?? "link") of that name, not this endpoint's veth")
        }
    }

    private func attach(_ endpoint: EndpointRecord, to network: NetworkRecord) throws(DriverError) {
        let action = "endpoint \(endpoint.shortID)"
        let session = try networkNamespace(network)
        let hostSession = try hostNamespace()
        let hostEnd = KernelLayout.hostEnd(endpoint: endpoint.id)
        let bridgeEnd = KernelLayout.bridgeEnd(endpoint: endpoint.id)
        let bridgeEndExists = try kernel(action) { try session.link(.name(bridgeEnd)) } != nil
        let hostEndExists = try kernel(action) { try hostSession.link(.name(hostEnd)) } != nil
        if !(bridgeEndExists && hostEndExists) {
            let pair = LinkSpec(
                name: hostEnd,
                kind: .veth(peer: VethPeer(name: bridgeEnd, mtu: network.mtu, namespaceFD: session.namespace.fd)),
                mtu: network.mtu, mac: endpoint.mac)
            try kernel(action) { try hostSession.perform(.createLink(pair)) }
        }
        let layout = layout(for: network)
        try kernel(action) {
            try session.perform(.setLink(.name(bridgeEnd), LinkChanges(up: true, mtu: network.mtu, master: .bridge(.name(layout.bridgeName)))))
        }
    }

    /// Best effort: removing the bridge end removes the pair, wherever its other end is.
    private func detach(_ endpoint: EndpointRecord, from network: NetworkRecord) {
        let bridgeEnd = KernelLayout.bridgeEnd(endpoint: endpoint.id)
        let hostEnd = KernelLayout.hostEnd(endpoint: endpoint.id)
        if let session = try? networkNamespace(network), case .failure(let error) = session.apply([.deleteLink(.name(bridgeEnd))])[0] {
            logger.debug("bridge end already gone", metadata: ["link": "\(bridgeEnd)", "error": "\(error)"])
        }
        if let session = try? hostNamespace(), (try? session.link(.name(hostEnd))) != nil {
            _ = session.apply([.deleteLink(.name(hostEnd))])
        }
    }

    private func removeNamespace(of network: NetworkRecord) {
        let reference = layout(for: network).namespace
        networkSessions[network.vni] = nil
        if backend.namespaceExists(reference) {
            do throws(NetlinkError) {
                try backend.deleteNamespace(reference)
            } catch {
                logger.warning("cannot remove namespace", metadata: ["namespace": "\(reference)", "error": "\(error)"])
            }
        }
    }

    private func hostNamespace() throws(DriverError) -> NetlinkSession {
        if let hostSession { return hostSession }
        let session = try kernel("open the host namespace") { try backend.session(in: hostNamespaceReference) }
        hostSession = session
        return session
    }

    /// The network's namespace, made if missing, with a socket kept open for later requests.
    private func networkNamespace(_ network: NetworkRecord) throws(DriverError) -> NetlinkSession {
        if let session = networkSessions[network.vni] { return session }
        let reference = layout(for: network).namespace
        let session = try kernel("namespace \(reference)") { () throws -> NetlinkSession in
            let namespace: NetworkNamespace
            if backend.namespaceExists(reference) {
                namespace = try backend.openNamespace(reference)
            } else {
                namespace = try backend.createNamespace(reference)
            }
            return try backend.session(in: namespace)
        }
        networkSessions[network.vni] = session
        return session
    }

    /// Runs netlink work, naming `action` in any failure. (The closure is untyped because Swift does not infer
    /// typed throws for closures; only `NetlinkError` comes out of the netlink layer.)
    private func kernel<T>(_ action: String, _ body: () throws -> T) throws(DriverError) -> T {
        do {
            return try body()
        } catch let error as NetlinkError {
            throw .kernel(action: action, error: error)
        } catch {
            throw .kernel(action: action, error: .malformedMessage("\(error)"))
        }
    }

    private func save(_ change: (inout PersistentState) -> Void) throws(DriverError) {
        do { try store.update(change) } catch { throw .persistence("\(error)") }
    }

    private static func parseCIDR(_ text: String, object: String) throws(DriverError) -> (IPv4Address, Int) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = IPv4Address(String(parts[0])), let prefix = Int(parts[1]), (0...32).contains(prefix)
        else { throw .invalidAddress(object: object, value: text) }
        return (address, prefix)
    }

    private static func summary(_ record: NetworkRecord) -> String {
        "VNI \(record.vni), subnet \(record.subnet), MTU \(record.mtu)\(record.isInternal ? ", internal" : "")"
    }
}
