import Gossip
import Logging

/// Keeps a swarm node in weft's gossip while swarm gives it a reason to be there, for the managed plugin that
/// was given no seeds of its own: it joins through the seeds a swarm network brings (CreateNetwork), and leaves
/// gracefully once it has had no weft network, and no network it is the seed of, for `idleLeave`. That is how a
/// node that leaves the swarm leaves the gossip: Docker removes its swarm networks, and sends a remote driver
/// nothing else (no DiscoverDelete in swarm mode). A later swarm network brings it back.
///
/// Joins and leaves run one at a time, in the order asked, so a leave decided just before a network arrived is
/// followed by the join, never the other way round.
public actor SwarmGossip: SwarmMembership {
    private let node: GossipNode
    private let cluster: ClusterState
    private let store: StateStore
    private let defaultPort: UInt16
    /// nil: never leave (the host was given seeds, so its membership is the operator's).
    private let idleLeave: Duration?
    /// Where a cluster key that arrives with a swarm network is saved, so a restart keeps it.
    private let keyFile: GossipKeyFile?
    private let logger: Logger
    private let clock = ContinuousClock()
    private var idleSince: ContinuousClock.Instant?
    private var lastOperation: Task<Void, Never>?

    /// - Parameter idleLeave: how long the host may hold no network before it leaves; nil never leaves (a
    ///   host given seeds by its operator).
    public init(
        node: GossipNode, cluster: ClusterState, store: StateStore, defaultPort: UInt16, idleLeave: Duration?,
        keyFile: GossipKeyFile? = nil, logger: Logger
    ) {
        self.keyFile = keyFile
        self.node = node
        self.cluster = cluster
        self.store = store
        self.defaultPort = defaultPort
        self.idleLeave = idleLeave
        self.logger = logger
    }

    public func networkArrived(seeds: [String]) async {
        idleSince = nil
        let addresses = seeds.compactMap { GossipAddress(parsing: $0, defaultPort: defaultPort) }
        guard !addresses.isEmpty else { return }
        _ = serially { await $0.join(addresses) }
    }

    public func clusterKeyArrived(_ base64: String) async throws {
        let key = try GossipKey.decode(base64, source: "the swarm network's gossip key")
        guard await node.keys.first != key else { return }
        guard !(await node.keys.isEmpty) else {
            logger.warning("a swarm network brought a gossip key, but this host gossips in plaintext (--insecure-gossip): it cannot reach the swarm's other nodes")
            return
        }
        do {
            try await node.installKey(key)
            try await node.useKey(key)
            try keyFile?.write(await node.keys)
            logger.notice("using the gossip key a swarm network brought", metadata: ["key": "\(GossipKey.fingerprint(key))"])
        } catch {
            logger.error("cannot use the gossip key a swarm network brought", metadata: ["error": "\(error)"])
        }
    }

    public func clusterKey() async -> String? { await node.keys.first.map(GossipKey.encode) }

    /// Leaves the gossip once the host has been idle for `idleLeave`; call it periodically.
    public func leaveIfIdle() async {
        guard let idleLeave else { return }
        let others = await node.members(includingGone: false).count - 1
        guard isIdle, others > 0, !(await node.hasLeft) else {
            idleSince = nil
            return
        }
        let now = clock.now
        guard let since = idleSince else {
            idleSince = now
            return
        }
        guard now - since >= idleLeave else { return }
        idleSince = nil
        await serially { await $0.leave(idleFor: now - since) }.value
    }

    // MARK: Joining and leaving, one at a time

    private func serially(_ work: @escaping @Sendable (SwarmGossip) async -> Void) -> Task<Void, Never> {
        let previous = lastOperation
        let next = Task {
            await previous?.value
            await work(self)
        }
        lastOperation = next
        return next
    }

    /// A few attempts, backing off from 0.5 s: the seed may be a manager whose plugin is still starting.
    private func join(_ seeds: [GossipAddress]) async {
        var pause = Duration.milliseconds(500)
        for attempt in 1...6 {
            do {
                let answered = try await node.join(seeds)
                logger.info("joined weft's gossip through a swarm network's seeds", metadata: ["seeds": "\(seeds)", "answered": "\(answered)"])
                return
            } catch {
                logger.warning("no swarm seed answered", metadata: ["seeds": "\(seeds)", "attempt": "\(attempt)", "error": "\(error)"])
            }
            try? await Task.sleep(for: pause)
            pause = pause * 2
        }
    }

    private func leave(idleFor idle: Duration) async {
        // Checked again: a network may have arrived while an earlier operation ran.
        guard isIdle, !(await node.hasLeft) else { return }
        logger.notice("leaving weft's gossip: no swarm network on this host", metadata: ["idle": "\(idle)"])
        await node.leave(timeout: .seconds(3), reason: Self.idleReason)
        await cluster.forgetOtherHosts()
        // A restart must not rejoin peers this host left on purpose.
        do {
            try store.update { $0.knownPeers.removeAll() }
        } catch {
            logger.warning("cannot forget the peer list", metadata: ["error": "\(error)"])
        }
    }

    /// What peers show for a host that left this way (`weft gossip members`).
    public static let idleReason = "idle: no weft network or task on this host"

    /// No weft network here, and none this host allocated as a manager.
    private var isIdle: Bool {
        let state = store.current
        return state.networks.isEmpty && state.allocatedNetworks.isEmpty
    }
}
