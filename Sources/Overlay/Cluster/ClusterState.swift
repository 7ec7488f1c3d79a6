import Glibc
import Gossip
import Logging
import Netlink

/// This host's view of the cluster's replicated tables (endpoints, network definitions, address-block claims),
/// kept in step with the other hosts through the gossip node: local changes are signed and broadcast, remote
/// ones judged and merged, and whole tables exchanged in push/pull. Whenever a network's remote state changes,
/// its VNI is reported on ``changes`` so the driver reprograms that network's VXLAN device.
///
/// A host speaks only for itself: a remote record is merged only when its owner is a current member that
/// wrote it, signed it with its pinned identity key, and names its own VTEP, and when its value is sound
/// (see `ClusterState+Admission.swift`); records about this host from others are never merged, and
/// ``reassertOwnRecords()`` writes this host's records again above any such version.
public actor ClusterState: GossipDelegate {
    public nonisolated let node: String
    /// This host's signing identity; its ``NodeIdentity/tags`` belong in the gossip tags.
    public nonisolated let identity: NodeIdentity
    /// The identity keys of other hosts, pinned on first sight.
    public nonisolated let pins: PinnedIdentities
    public nonisolated let limits: ClusterLimits
    /// VNIs whose remote endpoints or hosts changed, as they change (coalesce before acting).
    public nonisolated let changes: AsyncStream<Set<VNI>>
    private let changeSink: AsyncStream<Set<VNI>>.Continuation
    var endpoints: ReplicatedTable<EndpointAnnouncement>
    var networks: ReplicatedTable<NetworkAnnouncement>
    var claims: ReplicatedTable<BlockClaim>
    var census = TableCensus()
    /// Which entries hold each address, and what changed since the driver last took it (``ClusterState+RemoteEndpoints.swift``).
    var remoteIndex = RemoteEndpointIndex()
    /// The other gossip members, as their latest membership event showed them (left and forgotten ones gone).
    var members: [String: ClusterMember] = [:]
    /// Each host's latest path advert and when it arrived (``ClusterState+Paths.swift``).
    var pathAdverts: [String: (advert: PathAdvert, received: Double)] = [:]
    /// Signals each other host's advert whose relays changed (coalesced).
    public nonisolated let pathAdvertChanges: AsyncStream<Void>
    let pathAdvertSink: AsyncStream<Void>.Continuation
    var pending: PendingRecords
    /// The highest version seen from others of each of this host's keys (table and key), until the next
    /// ``reassertOwnRecords()``.
    var foreignAboutSelf: [String: (update: ClusterCodec.Update, version: EntryVersion)] = [:]
    /// When each failed host was declared dead (table time), for purging it after the grace period.
    private var deadSince: [String: Double] = [:]
    var broadcaster: (@Sendable ([UInt8], String) async -> Void)?
    let logger: Logger
    var refusalLog: RateLimitedLog
    let wallClock: @Sendable () -> UInt64
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    /// How long a deletion is remembered, so a late copy of a deleted entry cannot revive it.
    public let tombstoneLifetime: Double
    public internal(set) var malformedMessages = 0
    /// Records from other hosts that were not merged, by reason (held-back records count when held).
    public internal(set) var rejections: [ClusterRejection: Int] = [:]
    /// Whether this host has received the cluster's tables at least once (a push/pull), or waited long enough
    /// to be sure it is alone. Until then its tables may be missing what the kernel already holds (after a
    /// restart), so remote entries are added but never removed on their account.
    public private(set) var isSynchronized = false

    /// - Parameters:
    ///   - identity: this host's signing key (``NodeIdentity/loadOrCreate(directory:)``); a fresh one by default.
    ///   - pins: where other hosts' keys are pinned (``PinnedIdentities/init(directory:)``); memory by default.
    ///   - wallClock: milliseconds since the epoch (tests move it).
    public init(
        node: String, identity: NodeIdentity = NodeIdentity(), pins: PinnedIdentities = PinnedIdentities(),
        limits: ClusterLimits = .standard, logger: Logger, tombstoneLifetime: Double = 300,
        wallClock: @escaping @Sendable () -> UInt64 = ClusterState.wallClockMilliseconds
    ) {
        self.node = node
        self.identity = identity
        self.pins = pins
        self.limits = limits
        self.logger = logger
        self.tombstoneLifetime = tombstoneLifetime
        self.wallClock = wallClock
        endpoints = ReplicatedTable(node: node)
        networks = ReplicatedTable(node: node)
        claims = ReplicatedTable(node: node)
        pending = PendingRecords(capacity: limits.maxPending)
        refusalLog = RateLimitedLog(interval: limits.logInterval)
        (changes, changeSink) = AsyncStream.makeStream(of: Set<VNI>.self, bufferingPolicy: .bufferingNewest(1024))
        (pathAdvertChanges, pathAdvertSink) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        start = clock.now
        endpoints.recordsChanges = true
        networks.recordsChanges = true
        claims.recordsChanges = true
    }

    /// Connects the state to the gossip node that carries its broadcasts.
    public func attach(broadcast: @escaping @Sendable ([UInt8], String) async -> Void) {
        broadcaster = broadcast
    }

    // MARK: Local changes

    public func announce(_ endpoint: EndpointAnnouncement) async {
        await send(putEndpoint(endpoint.key, endpoint, floor: wallClock()))
    }

    public func withdraw(endpoint key: String) async {
        guard endpoints.entries[key]?.owner == node,
            let tombstone = endpoints.delete(key, at: now, floor: wallClock(), sign: signer(key, ClusterCodec.Update.endpoint))
        else { return }
        await send(.endpoint(key: key, entry: tombstone))
    }

    public func announce(_ network: NetworkAnnouncement) async {
        await send(putNetwork(network.key, network, floor: wallClock()))
    }

    /// Withdraws this host's definition of a network and every endpoint of it this host announced.
    public func withdraw(network vni: VNI) async {
        for (key, endpoint) in endpoints.live where endpoint.vni == vni && endpoint.host == node {
            await withdraw(endpoint: key)
        }
        let key = NetworkAnnouncement.key(vni: vni, host: node)
        guard let tombstone = networks.delete(key, at: now, floor: wallClock(), sign: signer(key, ClusterCodec.Update.network))
        else { return }
        await send(.network(key: key, entry: tombstone))
    }

    /// Claims a block of a pool for this host and returns the claim's version.
    public func claim(_ claim: BlockClaim) async -> EntryVersion {
        let update = putClaim(claim.key, claim, floor: wallClock())
        await send(update)
        return update.envelope.version
    }

    /// Gives up this host's claim on a block (a claim it lost, or a pool it released).
    public func unclaim(_ claim: BlockClaim) async {
        guard let tombstone = claims.delete(claim.key, at: now, floor: wallClock(), sign: signer(claim.key, ClusterCodec.Update.claim))
        else { return }
        await send(.claim(key: claim.key, entry: tombstone))
    }

    /// This host is the authority on its own records: writes each of its records that another host was seen
    /// holding a version of (a forged tombstone, a copy from before a restart) again, above that version, and
    /// answers a live copy of a record it does not hold with a tombstone above it. The daemon calls it in its
    /// periodic repair pass; returns how many records were written.
    @discardableResult
    public func reassertOwnRecords() async -> Int {
        let seen = foreignAboutSelf
        foreignAboutSelf = [:]
        var updates: [ClusterCodec.Update] = []
        for (_, (foreign, version)) in seen.sorted(by: { $0.key < $1.key }) {
            let above = version.clock == .max ? version.clock : version.clock + 1
            let floor = max(above, wallClock())
            switch foreign {
            case .endpoint(let key, let entry):
                if let own = endpoints.entries[key], own.version > version { continue }
                if let value = endpoints.entries[key]?.value {
                    updates.append(putEndpoint(key, value, floor: floor))
                } else if !entry.isTombstone {
                    updates.append(.endpoint(key: key, entry: endpoints.bury(key, at: now, floor: floor, sign: signer(key, ClusterCodec.Update.endpoint))))
                }
            case .network(let key, let entry):
                if let own = networks.entries[key], own.version > version { continue }
                if let value = networks.entries[key]?.value {
                    updates.append(putNetwork(key, value, floor: floor))
                } else if !entry.isTombstone {
                    updates.append(.network(key: key, entry: networks.bury(key, at: now, floor: floor, sign: signer(key, ClusterCodec.Update.network))))
                }
            case .claim(let key, let entry):
                if let own = claims.entries[key], own.version > version { continue }
                if let value = claims.entries[key]?.value {
                    updates.append(putClaim(key, value, floor: floor))
                } else if !entry.isTombstone {
                    updates.append(.claim(key: key, entry: claims.bury(key, at: now, floor: floor, sign: signer(key, ClusterCodec.Update.claim))))
                }
            }
        }
        if !updates.isEmpty {
            logger.notice("re-announced this host's records above versions others held", metadata: ["records": "\(updates.count)"])
        }
        for update in updates { await send(update) }
        return updates.count
    }

    /// Who owns each claimed block of a pool: of the live claims on a block, the earliest (lowest version).
    public func blockOwners(subnet: IPv4Subnet) -> [Int: String] {
        blockOwners(pool: .v4(subnet))
    }

    /// Who owns each claimed block of a pool of either family.
    public func blockOwners(pool subnet: IPSubnet) -> [Int: String] {
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

    /// When each remote endpoint of a network was last written by its owner, by MAC: its version's clock, which is
    /// never below the writer's wall clock in milliseconds (skew and Lamport steps make it approximate). For the
    /// convergence-lag metric.
    public func endpointWriteTimes(vni: VNI) -> [MACAddress: UInt64] {
        var times: [MACAddress: UInt64] = [:]
        for entry in endpoints.entries.values where entry.owner != node {
            if let endpoint = entry.value, endpoint.vni == vni { times[endpoint.mac] = entry.version.clock }
        }
        return times
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
    public var claimTable: ReplicatedTable<BlockClaim> { claims }
    /// How many records wait for their owner to join or their network to be defined.
    public var pendingRecords: Int { pending.count }

    // MARK: Membership

    /// Applies a membership change: a member's tags give its VTEP and identity key (pinned on first sight);
    /// a failed host's entries stop being live (its FDB and neighbour entries go) but are kept; a host that
    /// comes back has them restored; a host that left has them forgotten.
    public func apply(_ event: MembershipEvent) {
        let name = event.member.name
        guard name != node else { return }
        var touched: Set<VNI> = []
        func vnis(of owner: String) -> Set<VNI> {
            Set(endpoints.entries.values.filter { $0.owner == owner }.compactMap { $0.value?.vni })
                .union(networks.entries.values.filter { $0.owner == owner }.compactMap { $0.value?.vni })
        }
        switch event {
        case .dead(let member):
            learn(member)
            touched = vnis(of: name)
            endpoints.suspend(owner: name)
            networks.suspend(owner: name)
            markEndpoints(of: name)
            deadSince[name] = now
        case .join(let member):
            learn(member)
            touched = vnis(of: name)
            endpoints.restore(owner: name)
            networks.restore(owner: name)
            claims.restore(owner: name)
            markEndpoints(of: name)
            remoteIndex.markContested()
            deadSince[name] = nil
        case .update(let member), .suspect(let member):
            learn(member)
        case .left:
            touched = vnis(of: name)
            forget(name)
        }
        indexTableChanges()
        if !touched.isEmpty {
            logger.info("membership changed the overlay", metadata: ["member": "\(name)", "event": "\(event)", "networks": "\(touched.count)"])
            changeSink.yield(touched)
        }
        if members[name] != nil { _ = merge(pending.release(owner: name)) }
    }

    /// Drops expired tombstones and held-back records, and forgets hosts that failed more than `grace` seconds
    /// ago: their endpoints, networks and address blocks (which other hosts may then claim).
    public func expire(failedHostGrace grace: Double) {
        endpoints.expireTombstones(olderThan: tombstoneLifetime, at: now)
        networks.expireTombstones(olderThan: tombstoneLifetime, at: now)
        claims.expireTombstones(olderThan: tombstoneLifetime, at: now)
        pending.expire(olderThan: limits.pendingLifetime, at: now)
        for (host, since) in deadSince where now - since >= grace {
            logger.notice("forgetting a host that failed", metadata: ["member": "\(host)", "after seconds": "\(Int(now - since))"])
            forget(host, recounting: false)
        }
        recount()
        indexTableChanges()
    }

    /// After this host left the cluster: every other host's entries go (a later join relearns them from the
    /// peers' push/pull), and until then the tables count as unsynchronized, so nothing is withdrawn on their word.
    public func forgetOtherHosts() {
        let owners = Set(endpoints.entries.values.map(\.owner))
            .union(networks.entries.values.map(\.owner))
            .union(claims.entries.values.map(\.owner))
            .union(members.keys)
        var touched: Set<VNI> = []
        for entry in endpoints.entries.values where entry.owner != node {
            if let vni = entry.value?.vni { touched.insert(vni) }
        }
        for owner in owners where owner != node { forget(owner, recounting: false) }
        recount()
        deadSince.removeAll()
        pending.removeAll()
        foreignAboutSelf.removeAll()
        isSynchronized = false
        indexTableChanges()
        if !touched.isEmpty { changeSink.yield(touched) }
    }

    private func learn(_ member: Member) {
        var outcome: PinnedIdentities.Outcome?
        if let tag = member.tags[NodeIdentity.tagName], NodeIdentity.publicKey(tag: tag) != nil {
            do {
                outcome = try pins.check(node: member.name, key: tag)
            } catch {
                logger.warning("cannot pin a host's identity key", metadata: ["member": "\(member.name)", "error": "\(error)"])
                outcome = pins.pinned(member.name) == tag ? .matches : nil
            }
        }
        let known = ClusterMember(member, identity: outcome)
        if known.identityChanged, members[member.name]?.identityChanged != true {
            logger.error(
                "a host's identity key is not the one pinned for it: its records are refused until an operator removes its pin",
                metadata: ["member": "\(member.name)", "pinned": "\(pins.pinned(member.name) ?? "")", "file": "\(PinnedIdentities.fileName)"])
        }
        members[member.name] = known
    }

    private func forget(_ host: String, recounting: Bool = true) {
        endpoints.purge(owner: host)
        networks.purge(owner: host)
        claims.purge(owner: host)
        deadSince[host] = nil
        members[host] = nil
        if recounting { recount() }
    }

    private func recount() {
        census = TableCensus.counting(endpoints: endpoints, networks: networks, claims: claims)
    }

    // MARK: GossipDelegate

    public func notifyMessage(_ payload: [UInt8]) async -> MessageHandling {
        if payload.first == PathAdvert.magic { return mergePathAdvert(payload) }
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
        var updates: [ClusterCodec.Update] = networks.entries.map { .network(key: $0.key, entry: $0.value) }
        updates += claims.entries.map { .claim(key: $0.key, entry: $0.value) }
        updates += endpoints.entries.map { .endpoint(key: $0.key, entry: $0.value) }
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

    /// Judges and merges updates (network definitions first, so endpoints find their subnet); returns the keys
    /// that changed, and reports the VNIs they touch.
    func merge(_ updates: [ClusterCodec.Update]) -> [String] {
        var changedKeys: [String] = []
        var touched: Set<VNI> = []
        var queue = updates.filter { $0.envelope.table == .networks } + updates.filter { $0.envelope.table == .claims }
            + updates.filter { $0.envelope.table == .endpoints }
        var index = 0
        while index < queue.count {
            let update = queue[index]
            index += 1
            guard admit(update) else { continue }
            let envelope = update.envelope
            let vni = Self.vni(inKey: envelope.key)
            if isNewKey(update) { census.add(envelope.table, owner: envelope.owner, vni: envelope.table == .claims ? nil : vni) }
            switch update {
            case .endpoint(let key, let entry):
                if endpoints.merge(key, entry, at: now) {
                    changedKeys.append(key)
                    if let vni { touched.insert(vni) }
                }
            case .network(let key, let entry):
                if networks.merge(key, entry, at: now) {
                    changedKeys.append(key)
                    if let vni {
                        touched.insert(vni)
                        if entry.value != nil { queue += pending.release(vni: vni) }
                    }
                }
            case .claim(let key, let entry):
                if claims.merge(key, entry, at: now) { changedKeys.append(key) }
            }
        }
        indexTableChanges()
        if !touched.isEmpty { changeSink.yield(touched) }
        return changedKeys
    }

    private func isNewKey(_ update: ClusterCodec.Update) -> Bool {
        switch update {
        case .endpoint(let key, _): endpoints.entries[key] == nil
        case .network(let key, _): networks.entries[key] == nil
        case .claim(let key, _): claims.entries[key] == nil
        }
    }

    private func putEndpoint(_ key: String, _ value: EndpointAnnouncement, floor: UInt64) -> ClusterCodec.Update {
        if endpoints.entries[key] == nil { census.add(.endpoints, owner: node, vni: value.vni) }
        return .endpoint(key: key, entry: endpoints.put(key, value, floor: floor, sign: signer(key, ClusterCodec.Update.endpoint)))
    }

    private func putNetwork(_ key: String, _ value: NetworkAnnouncement, floor: UInt64) -> ClusterCodec.Update {
        if networks.entries[key] == nil { census.add(.networks, owner: node, vni: value.vni) }
        return .network(key: key, entry: networks.put(key, value, floor: floor, sign: signer(key, ClusterCodec.Update.network)))
    }

    private func putClaim(_ key: String, _ value: BlockClaim, floor: UInt64) -> ClusterCodec.Update {
        if claims.entries[key] == nil { census.add(.claims, owner: node, vni: nil) }
        return .claim(key: key, entry: claims.put(key, value, floor: floor, sign: signer(key, ClusterCodec.Update.claim)))
    }

    /// Signs an entry of this host's as the update `wrap` makes of it.
    private func signer<Value>(
        _ key: String, _ wrap: @escaping (String, ReplicatedEntry<Value>) -> ClusterCodec.Update
    ) -> (ReplicatedEntry<Value>) -> [UInt8] {
        { [identity] entry in identity.sign(ClusterCodec.signedBytes(wrap(key, entry))) }
    }

    private func send(_ update: ClusterCodec.Update) async {
        indexTableChanges()
        await broadcaster?(ClusterCodec.encode([update]), update.envelope.key)
    }

    var now: Double {
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Keys start with the VNI (`42/…`), so a tombstone for an entry never seen here still names its network.
    static func vni(inKey key: String) -> VNI? {
        key.split(separator: "/").first.flatMap { UInt32($0) }.flatMap(VNI.init)
    }

    /// Versions never go below wall-clock milliseconds, so a restarted host (whose table starts empty) still
    /// writes above everything it wrote before.
    public static func wallClockMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }
}
