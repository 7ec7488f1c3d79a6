import Gossip
import Netlink
import Overlay

/// Builds the status models from what the running daemon holds: the gossip node, the cluster tables, the
/// driver and its saved state. Read-only; every call is a fresh snapshot.
public struct StatusSource: Sendable {
    public let version: String
    public let host: HostSettings
    public let node: GossipNode?
    public let cluster: ClusterState?
    public let driver: OverlayDriver
    public let store: StateStore
    /// Where the modules record events (``EventJournal/shared`` in the daemon).
    public let journal: EventJournal
    let started: ContinuousClock.Instant

    /// - Parameters:
    ///   - node, cluster: nil for a host on its own (no gossip).
    public init(
        version: String, host: HostSettings, node: GossipNode?, cluster: ClusterState?, driver: OverlayDriver,
        store: StateStore, journal: EventJournal = .shared, started: ContinuousClock.Instant = .now
    ) {
        self.journal = journal
        self.version = version
        self.host = host
        self.node = node
        self.cluster = cluster
        self.driver = driver
        self.store = store
        self.started = started
    }

    // MARK: weft status

    public func status() async -> DaemonStatus {
        let peers = await peers()
        let networks = await networks()
        var problems: [String] = []
        var gossip: GossipSummary?
        if let node, let cluster {
            let others = peers.filter { !$0.isSelf }
            let keys = await node.keys.count
            let synchronized = await cluster.isSynchronized
            gossip = GossipSummary(
                alive: peers.count { $0.state == "alive" }, suspect: peers.count { $0.state == "suspect" },
                failed: peers.count { $0.state == "failed" }, left: peers.count { $0.state == "left" },
                encrypted: keys > 0, keys: keys, synchronized: synchronized)
            for peer in others where peer.state == "failed" || peer.state == "suspect" {
                let entries = peer.state == "failed" ? ": \(peer.endpoints) remote endpoint(s) removed from the kernel" : ""
                problems.append(
                    "peer \(peer.name) (\(peer.address)) \(peer.state == "failed" ? "unreachable" : "suspect") for \(peer.sinceSeconds) s\(entries) (\(peer.reason ?? peer.state))")
            }
            for peer in others where peer.state == "alive" && peer.dataPath == "down" {
                let path = peer.path.map { $0 == "direct" ? "no relay reaches it" : "reached \($0)" } ?? "no path"
                problems.append("peer \(peer.name): its VXLAN port does not answer the data-path probe: \(path) (\(peer.pathReason ?? "-"))")
            }
            if !synchronized {
                problems.append("the cluster's tables have not arrived yet (no push/pull with a peer): remote entries are added, none removed")
            }
        }
        let ipam = await pools(peers: peers)
        for pool in ipam where (pool.blocksHeldByUnreachable ?? 0) > 0 {
            problems.append("pool \(pool.subnet): \(pool.blocksHeldByUnreachable ?? 0) address block(s) held by unreachable hosts")
        }
        for (host, reason) in await driver.encryptionExcluded.sorted(by: { $0.key < $1.key }) {
            problems.append("encrypted networks: no FDB entry toward \(host): \(reason)")
        }
        var repair: RepairStatus?
        if let last = await driver.lastRepair {
            let now = ClusterState.wallClockMilliseconds()
            repair = RepairStatus(
                secondsAgo: Int((now &- min(now, last.finishedAt)) / 1000), networks: last.networks, written: last.written,
                removed: last.removed, failed: last.failed)
            if last.failed > 0 { problems.append("the last repair pass could not make \(last.failed) kernel change(s) (see the log)") }
        }
        return DaemonStatus(
            version: version, node: cluster?.node ?? "\(host.advertiseAddress)", advertiseAddress: "\(host.advertiseAddress)",
            uptimeSeconds: Self.seconds(ContinuousClock.now - started), gossip: gossip,
            networks: NetworksSummary(
                count: networks.count, localEndpoints: networks.reduce(0) { $0 + $1.localEndpoints.count },
                remoteEndpoints: networks.reduce(0) { $0 + $1.remoteEndpoints.count }),
            ipam: ipam, lastRepair: repair, wireGuard: await driver.wireGuardBackend, problems: problems)
    }

    // MARK: weft status peers

    public func peers() async -> [PeerStatus] {
        guard let node, let cluster else { return [] }
        let statuses = await node.memberStatuses()
        var endpoints: [String: Int] = [:]
        for entry in await cluster.endpointTable.entries.values where entry.value != nil { endpoints[entry.owner, default: 0] += 1 }
        let now = ContinuousClock.now
        let paths = await driver.pathReport
        return statuses.map { status in
            let member = status.member
            let state: String
            var reason: String?
            switch member.state {
            case .alive: state = "alive"
            case .suspect:
                state = "suspect"
                reason = "missed its probes: suspected, not yet declared failed"
            case .dead:
                state = "failed"
                reason = "declared failed: no answer to direct or indirect probes"
            case .left:
                state = "left"
                reason = "left the cluster"
            default:
                state = "\(member.state)"
            }
            var peer = PeerStatus(
                name: member.name, address: "\(member.address)", state: state, sinceSeconds: Self.seconds(now - status.since),
                reason: reason, protocolVersions: Self.versions(member.versions), endpoints: endpoints[member.name] ?? 0,
                isSelf: member.name == node.name, vtep: member.tags["vtep"],
                rttLastMs: status.probes?.last.map(Self.milliseconds), rttP50Ms: status.probes?.percentile(0.5).map(Self.milliseconds),
                rttP99Ms: status.probes?.percentile(0.99).map(Self.milliseconds), probeLoss: status.probes.map(\.loss))
            if let vtep = member.tags["vtep"].flatMap(IPAddress.init), let path = paths[vtep] {
                peer.dataPath = path.dataPathUp ? "up" : "down"
                peer.dataPathRttMs = path.dataPathRtt.map { $0 * 1000 }
                peer.path = path.relay.map { relay in
                    path.relayName.map { $0 == "\(relay)" ? "via \(relay)" : "via \($0) (\(relay))" } ?? "via \(relay)"
                } ?? "direct"
                peer.pathSinceSeconds = Self.seconds(now - path.since)
                peer.pathReason = path.reason
            }
            return peer
        }
    }

    // MARK: weft status networks

    public func networks() async -> [NetworkStatus] {
        var result: [NetworkStatus] = []
        for network in store.current.networks.values.sorted(by: { $0.vni < $1.vni }) {
            result.append(await status(of: network))
        }
        return result
    }

    /// One network by ID, ID prefix (4 characters or more) or VNI.
    public func network(_ selector: String) async throws(ControlError) -> NetworkStatus {
        let matching = store.current.networks.values.filter { OverlayDriver.network($0, isNamed: selector) }
        guard let network = matching.first else { throw .unknownNetwork(selector) }
        guard matching.count == 1 else { throw .ambiguousNetwork(selector, matching.map(\.shortID).sorted()) }
        return await status(of: network)
    }

    // MARK: weft diff

    public func diff(_ selector: String?) async throws(ControlError) -> DiffReport {
        do throws(DriverError) {
            return DiffReport(networks: try await driver.drift(network: selector))
        } catch {
            if case .unknownNetwork = error, let selector { throw .unknownNetwork(selector) }
            throw .kernel("\(error)")
        }
    }

    // MARK: Parts

    private func status(of network: NetworkRecord) async -> NetworkStatus {
        let state = store.current
        let local = state.endpoints(of: network.id).map {
            LocalEndpointStatus(id: $0.id, address: "\($0.address)", mac: "\($0.mac)")
        }
        var remote: [RemoteEndpointStatus] = []
        var hosts: [String] = []
        if let cluster {
            let endpoints = await cluster.remoteEndpoints(vni: network.vni)
            var owners: [String: String] = [:]
            for announcement in await cluster.endpointTable.live.values where announcement.vni == network.vni {
                owners["\(announcement.address)/\(announcement.mac)"] = announcement.host
            }
            remote = endpoints.map { endpoint in
                RemoteEndpointStatus(
                    address: "\(endpoint.address)", mac: "\(endpoint.mac)",
                    host: owners["\(endpoint.address)/\(endpoint.mac)"] ?? "\(endpoint.vtep)", vtep: "\(endpoint.vtep)")
            }
            let vteps = await cluster.remoteHosts(vni: network.vni).union(endpoints.map(\.vtep))
            var names: [String: String] = [:]
            for announcement in await cluster.networkTable.live.values where announcement.vni == network.vni {
                names["\(announcement.vtep)"] = announcement.host
            }
            hosts = vteps.map { names["\($0)"] ?? "\($0)" }.sorted()
        }
        return NetworkStatus(
            id: network.id, vni: network.vni.value, subnet: "\(network.subnet)", gateway: network.gateway.map { "\($0)" },
            mtu: network.mtu, isInternal: network.isInternal, localEndpoints: local, remoteEndpoints: remote, hosts: hosts)
    }

    private func pools(peers: [PeerStatus]) async -> [PoolStatus] {
        let unreachable = Set(peers.filter { $0.state == "failed" || $0.state == "suspect" }.map(\.name))
        var result: [PoolStatus] = []
        for (id, pool) in store.current.ipam.pools.sorted(by: { $0.key.description < $1.key.description }) {
            let inUse = pool.addresses.count
            let usable = Int(max(0, Int64(pool.subnet.size) - 2))
            guard let cluster else {
                result.append(PoolStatus(
                    pool: id.description, subnet: "\(pool.subnet)", inUse: inUse, free: max(0, usable - inUse),
                    blocksOwned: nil, blocksHeldByUnreachable: nil))
                continue
            }
            let owners = await cluster.blockOwners(subnet: pool.subnet)
            let blockSize = Int(min(UInt64(cluster.limits.blockSize), pool.subnet.size))
            let owned = owners.values.count { $0 == cluster.node }
            let held = owners.values.count { unreachable.contains($0) }
            result.append(PoolStatus(
                pool: id.description, subnet: "\(pool.subnet)", inUse: inUse, free: max(0, min(usable, owned * blockSize) - inUse),
                blocksOwned: owned, blocksHeldByUnreachable: held))
        }
        return result
    }

    static func seconds(_ duration: Duration) -> Int { Int(max(0, duration.components.seconds)) }

    /// Milliseconds with microsecond precision.
    static func milliseconds(_ duration: Duration) -> Double {
        let micros = Double(duration.components.seconds) * 1_000_000 + Double(duration.components.attoseconds / 1_000_000_000_000)
        return micros.rounded() / 1000
    }

    /// `2-5/5 d2-5/5` from memberlist's six version bytes.
    static func versions(_ bytes: [UInt8]) -> String {
        guard bytes.count >= 6 else { return bytes.map(String.init).joined(separator: ".") }
        return "\(bytes[0])-\(bytes[1])/\(bytes[2]) d\(bytes[3])-\(bytes[4])/\(bytes[5])"
    }
}

/// A control request that cannot be answered, naming what was asked.
public enum ControlError: Error, Equatable, CustomStringConvertible {
    case unknownNetwork(String)
    case ambiguousNetwork(String, [String])
    case kernel(String)

    public var description: String {
        switch self {
        case .unknownNetwork(let selector): "no weft network has the ID, ID prefix or VNI \"\(selector)\""
        case .ambiguousNetwork(let selector, let ids): "\"\(selector)\" names several networks: \(ids.joined(separator: ", "))"
        case .kernel(let detail): "cannot compare with the kernel: \(detail)"
        }
    }
}
