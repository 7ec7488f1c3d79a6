import Glibc
import Gossip
import Logging
import Netlink

/// This host's view of the cluster's replicated tables (endpoints and network definitions), kept in step with
/// the other hosts through the gossip node: local changes are broadcast, remote ones merged, and whole tables
/// exchanged in push/pull. Whenever a network's remote state changes, its VNI is reported on ``changes`` so the
/// driver reprograms that network's VXLAN device.
public actor ClusterState: GossipDelegate {
    public nonisolated let node: String
    /// VNIs whose remote endpoints or hosts changed, as they change (coalesce before acting).
    public nonisolated let changes: AsyncStream<Set<VNI>>
    private let changeSink: AsyncStream<Set<VNI>>.Continuation
    private var endpoints: ReplicatedTable<EndpointAnnouncement>
    private var networks: ReplicatedTable<NetworkAnnouncement>
    private var claims: ReplicatedTable<BlockClaim>
    /// When each failed host was declared dead (table time), for purging it after the grace period.
    private var deadSince: [String: Double] = [:]
    private var broadcaster: (@Sendable ([UInt8], String) async -> Void)?
    private let logger: Logger
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    /// How long a deletion is remembered, so a late copy of a deleted entry cannot revive it.
    public let tombstoneLifetime: Double
    public private(set) var malformedMessages = 0
    /// Whether this host has received the cluster's tables at least once (a push/pull), or waited long enough
    /// to be sure it is alone. Until then its tables may be missing what the kernel already holds (after a
    /// restart), so remote entries are added but never removed on their account.
    public private(set) var isSynchronized = false

    public init(node: String, logger: Logger, tombstoneLifetime: Double = 300) {
        self.node = node
        self.logger = logger
        self.tombstoneLifetime = tombstoneLifetime
        endpoints = ReplicatedTable(node: node)
        networks = ReplicatedTable(node: node)
        claims = ReplicatedTable(node: node)
        (changes, changeSink) = AsyncStream.makeStream(of: Set<VNI>.self, bufferingPolicy: .bufferingNewest(1024))
        start = clock.now
    }

    /// Connects the state to the gossip node that carries its broadcasts.
    public func attach(broadcast: @escaping @Sendable ([UInt8], String) async -> Void) {
        broadcaster = broadcast
    }

    // MARK: Local changes

    public func announce(_ endpoint: EndpointAnnouncement) async {
        let entry = endpoints.put(endpoint.key, endpoint, floor: Self.wallClockMilliseconds())
        await send(.endpoint(key: endpoint.key, entry: entry), key: endpoint.key)
    }

    public func withdraw(endpoint key: String) async {
        guard let tombstone = endpoints.delete(key, at: now, floor: Self.wallClockMilliseconds()) else { return }
        await send(.endpoint(key: key, entry: tombstone), key: key)
    }

    public func announce(_ network: NetworkAnnouncement) async {
        let entry = networks.put(network.key, network, floor: Self.wallClockMilliseconds())
        await send(.network(key: network.key, entry: entry), key: network.key)
    }

    /// Withdraws this host's definition of a network and every endpoint of it this host announced.
    public func withdraw(network vni: VNI) async {
        for (key, endpoint) in endpoints.live where endpoint.vni == vni && endpoint.host == node {
            await withdraw(endpoint: key)
        }
        let key = "\(vni.value)/\(node)"
        guard let tombstone = networks.delete(key, at: now, floor: Self.wallClockMilliseconds()) else { return }
        await send(.network(key: key, entry: tombstone), key: key)
    }

    /// Claims a block of a pool for this host and returns the claim's version.
    public func claim(_ claim: BlockClaim) async -> EntryVersion {
        let entry = claims.put(claim.key, claim, floor: Self.wallClockMilliseconds())
        await send(.claim(key: claim.key, entry: entry), key: claim.key)
        return entry.version
    }

    /// Gives up this host's claim on a block (a claim it lost, or a pool it released).
    public func unclaim(_ claim: BlockClaim) async {
        guard let tombstone = claims.delete(claim.key, at: now, floor: Self.wallClockMilliseconds()) else { return }
        await send(.claim(key: claim.key, entry: tombstone), key: claim.key)
    }

    /// Who owns each claimed block of a pool: of the live claims on a block, the earliest (lowest version).
    public func blockOwners(subnet: IPv4Subnet) -> [Int: String] {
        var owners: [Int: (host: String, version: EntryVersion)] = [:]
        for (_, entry) in claims.entries {
            guard let claim = entry.value, claim.subnet == subnet, !claims.suspendedOwners.contains(entry.owner) else { continue }
            if let current = owners[claim.block], current.version < entry.version { continue }
            owners[claim.block] = (claim.host, entry.version)
        }
        return owners.mapValues(\.host)
    }

    /// Declares the tables complete without a push/pull: this host found nobody to sync with in time.
    public func markSynchronized() { isSynchronized = true }

    // MARK: Reads

    /// Endpoints of other hosts in a network, as its VXLAN device must know them.
    /// When two endpoints hold the same address (one moved, or was reused, before the old one was withdrawn),
    /// the newer entry wins on every host, and an address held by an endpoint of this host is never remote.
    public func remoteEndpoints(vni: VNI) -> [RemoteEndpoint] {
        var newest: [IPv4Address: (entry: EndpointAnnouncement, version: EntryVersion)] = [:]
        for (_, entry) in endpoints.entries {
            guard let endpoint = entry.value, endpoint.vni == vni, !endpoints.suspendedOwners.contains(entry.owner) else { continue }
            if let current = newest[endpoint.address], current.version > entry.version { continue }
            newest[endpoint.address] = (endpoint, entry.version)
        }
        return newest.values.map(\.entry).filter { $0.host != node }
            .sorted { $0.address < $1.address }
            .map { RemoteEndpoint(address: .v4($0.address.bytes), mac: $0.mac, vtep: $0.vtep) }
    }

    /// VTEPs of the other hosts that have the network: where broadcast frames are replicated to.
    public func remoteHosts(vni: VNI) -> Set<IPAddress> {
        Set(networks.live.values.filter { $0.vni == vni && $0.host != node }.map(\.vtep))
    }

    /// Another host's definition of the VNI with a different subnet, if there is one.
    public func conflictingNetwork(vni: VNI, subnet: IPv4Subnet) -> NetworkAnnouncement? {
        networks.live.values.filter { $0.vni == vni && $0.host != node && $0.subnet != subnet }.min { $0.host < $1.host }
    }

    public var endpointTable: ReplicatedTable<EndpointAnnouncement> { endpoints }
    public var networkTable: ReplicatedTable<NetworkAnnouncement> { networks }

    // MARK: Membership

    /// Applies a membership change: a failed host's entries stop being live (its FDB and neighbour entries go)
    /// but are kept; a host that comes back has them restored; a host that left has them forgotten.
    public func apply(_ event: MembershipEvent) {
        let name = event.member.name
        guard name != node else { return }
        var touched: Set<VNI> = []
        func vnis(of owner: String) -> Set<VNI> {
            Set(endpoints.entries.values.filter { $0.owner == owner }.compactMap { $0.value?.vni })
                .union(networks.entries.values.filter { $0.owner == owner }.compactMap { $0.value?.vni })
        }
        switch event {
        case .dead:
            touched = vnis(of: name)
            endpoints.suspend(owner: name)
            networks.suspend(owner: name)
            deadSince[name] = now
        case .join:
            touched = vnis(of: name)
            endpoints.restore(owner: name)
            networks.restore(owner: name)
            claims.restore(owner: name)
            deadSince[name] = nil
        case .left:
            touched = vnis(of: name)
            forget(name)
        case .update, .suspect:
            return
        }
        if !touched.isEmpty {
            logger.info("membership changed the overlay", metadata: ["member": "\(name)", "event": "\(event)", "networks": "\(touched.count)"])
            changeSink.yield(touched)
        }
    }

    /// Drops expired tombstones, and forgets hosts that failed more than `grace` seconds ago: their endpoints,
    /// networks and address blocks (which other hosts may then claim).
    public func expire(failedHostGrace grace: Double) {
        endpoints.expireTombstones(olderThan: tombstoneLifetime, at: now)
        networks.expireTombstones(olderThan: tombstoneLifetime, at: now)
        claims.expireTombstones(olderThan: tombstoneLifetime, at: now)
        for (host, since) in deadSince where now - since >= grace {
            logger.notice("forgetting a host that failed", metadata: ["member": "\(host)", "after seconds": "\(Int(now - since))"])
            forget(host)
        }
    }

    /// After this host left the cluster: every other host's entries go (a later join relearns them from the
    /// peers' push/pull), and until then the tables count as unsynchronized, so nothing is withdrawn on their word.
    public func forgetOtherHosts() {
        let owners = Set(endpoints.entries.values.map(\.owner))
            .union(networks.entries.values.map(\.owner))
            .union(claims.entries.values.map(\.owner))
        var touched: Set<VNI> = []
        for entry in endpoints.entries.values where entry.owner != node {
            if let vni = entry.value?.vni { touched.insert(vni) }
        }
        for owner in owners where owner != node { forget(owner) }
        deadSince.removeAll()
        isSynchronized = false
        if !touched.isEmpty { changeSink.yield(touched) }
    }

    private func forget(_ host: String) {
        endpoints.purge(owner: host)
        networks.purge(owner: host)
        claims.purge(owner: host)
        deadSince[host] = nil
    }

    // MARK: GossipDelegate

    public func notifyMessage(_ payload: [UInt8]) async -> MessageHandling {
        guard payload.first == ClusterCodec.magic else { return .done }
        let updates: [ClusterCodec.Update]
        do throws(ClusterCodec.DecodingFailure) {
            updates = try ClusterCodec.decode(payload)
        } catch {
            malformedMessages += 1
            logger.debug("dropped a cluster message", metadata: ["error": "\(error)"])
            return .done
        }
        let changed = merge(updates)
        return changed.isEmpty ? .done : .rebroadcast(key: changed.first)
    }

    public func localState(join: Bool) async -> [UInt8] {
        var updates: [ClusterCodec.Update] = endpoints.entries.map { .endpoint(key: $0.key, entry: $0.value) }
        updates += networks.entries.map { .network(key: $0.key, entry: $0.value) }
        updates += claims.entries.map { .claim(key: $0.key, entry: $0.value) }
        return ClusterCodec.encode(updates)
    }

    public func mergeRemoteState(_ state: [UInt8], join: Bool) async {
        do throws(ClusterCodec.DecodingFailure) {
            _ = merge(try ClusterCodec.decode(state))
            isSynchronized = true
        } catch {
            malformedMessages += 1
            logger.debug("dropped a cluster state", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Internals

    /// Merges updates; returns the keys that changed, and reports the VNIs they touch.
    private func merge(_ updates: [ClusterCodec.Update]) -> [String] {
        var changedKeys: [String] = []
        var touched: Set<VNI> = []
        for update in updates {
            switch update {
            case .endpoint(let key, let entry):
                let before = endpoints.entries[key]?.value?.vni ?? Self.vni(inKey: key)
                if endpoints.merge(key, entry, at: now) {
                    changedKeys.append(key)
                    if let vni = entry.value?.vni ?? before { touched.insert(vni) }
                }
            case .network(let key, let entry):
                let before = networks.entries[key]?.value?.vni ?? Self.vni(inKey: key)
                if networks.merge(key, entry, at: now) {
                    changedKeys.append(key)
                    if let vni = entry.value?.vni ?? before { touched.insert(vni) }
                }
            case .claim(let key, let entry):
                if claims.merge(key, entry, at: now) { changedKeys.append(key) }
            }
        }
        if !touched.isEmpty { changeSink.yield(touched) }
        return changedKeys
    }

    private func send(_ update: ClusterCodec.Update, key: String) async {
        await broadcaster?(ClusterCodec.encode([update]), key)
    }

    private var now: Double {
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Keys start with the VNI (`42/…`), so a tombstone for an entry never seen here still names its network.
    static func vni(inKey key: String) -> VNI? {
        key.split(separator: "/").first.flatMap { UInt32($0) }.flatMap(VNI.init)
    }

    /// Versions never go below wall-clock milliseconds, so a restarted host (whose table starts empty) still
    /// writes above everything it wrote before.
    static func wallClockMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }

}
