import CoreMetrics
import Gossip
import Logging
import ServiceLifecycle

/// What keeps a daemon's host in the cluster while it runs, as one `Service`: membership events into the cluster
/// tables (and the remembered peers), table changes into kernel reprogramming, the periodic repair pass, joining
/// the seeds (configured, and the peers known before a restart) until one answers, and under swarm leaving when
/// idle. Its timers run on `clock`, so tests drive them with a virtual one.
public struct ClusterMaintenance<C: Clock>: Service where C.Duration == Duration {
    /// How often and how long the maintenance waits; the defaults are the daemon's.
    public struct Timing: Sendable {
        /// Between two repair passes (expiry of tombstones and failed hosts, a full reconcile of remote entries).
        public var repairInterval: Duration = .seconds(10)
        /// With no seeds, after this long the host trusts its own tables (it is the first, or alone).
        public var aloneAfter: Duration = .seconds(35)
        /// With seeds none of which answered, the same, later.
        public var seedsSilentAfter: Duration = .seconds(60)
        /// Between two checks whether a swarm node is idle.
        public var idleCheckInterval: Duration = .seconds(1)
        /// The first and the longest pause between two attempts to join the seeds.
        public var joinBackoff: ClosedRange<Duration> = .milliseconds(500) ... .seconds(30)
        /// Seconds after which a failed host's endpoints and blocks are forgotten.
        public var failedHostGrace: Double = 600

        public init() {}
    }

    let node: GossipNode
    /// Under swarm: leaves the gossip when swarm has left this host no network.
    let swarm: SwarmGossip?
    let cluster: ClusterState
    let driver: OverlayDriver
    let store: StateStore
    let seeds: [GossipAddress]
    let gossipPort: UInt16
    let ownAddress: GossipAddress
    let timing: Timing
    let clock: C
    let logger: Logger

    public init(
        node: GossipNode, swarm: SwarmGossip?, cluster: ClusterState, driver: OverlayDriver, store: StateStore,
        seeds: [GossipAddress], gossipPort: UInt16, ownAddress: GossipAddress, timing: Timing = Timing(), clock: C,
        logger: Logger
    ) {
        self.node = node
        self.swarm = swarm
        self.cluster = cluster
        self.driver = driver
        self.store = store
        self.seeds = seeds
        self.gossipPort = gossipPort
        self.ownAddress = ownAddress
        self.timing = timing
        self.clock = clock
        self.logger = logger
    }

    /// Runs until cancelled or the service group shuts down.
    public func run() async {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { tasks in
                tasks.addTask { await followMembership() }
                tasks.addTask {
                    for await vnis in cluster.changes { await driver.remoteChanged(vnis) }
                }
                tasks.addTask {
                    // With no seeds, or none answering, this host may be the first: after a while it trusts its
                    // own tables (and so removes entries nobody announces any more).
                    try? await clock.sleep(for: seeds.isEmpty ? timing.aloneAfter : timing.seedsSilentAfter)
                    await cluster.markSynchronized()
                }
                tasks.addTask {
                    // Level-triggered: a periodic pass repairs whatever drifted or was missed.
                    while !Task.isCancelled {
                        do { try await clock.sleep(for: timing.repairInterval) } catch { return }
                        await repair()
                    }
                }
                if let swarm {
                    tasks.addTask {
                        while !Task.isCancelled {
                            do { try await clock.sleep(for: timing.idleCheckInterval) } catch { return }
                            await swarm.leaveIfIdle()
                        }
                    }
                }
                let joining = seedsToJoin()
                if !joining.isEmpty {
                    tasks.addTask { await join(joining) }
                }
            }
        }
    }

    /// One repair pass: expiries, this host's own records re-announced above anything forged about them, then
    /// every network's remote entries against the tables.
    func repair() async {
        await cluster.expire(failedHostGrace: timing.failedHostGrace)
        await cluster.reassertOwnRecords()
        await driver.reconcileAllRemote()
    }

    private func followMembership() async {
        for await event in node.events {
            Counter(label: "weft_gossip_membership_events_total", dimensions: [("event", Self.kind(of: event))]).increment()
            if event.member.name != node.name {
                EventJournal.shared.record(
                    "membership", subject: event.member.name, "\(Self.kind(of: event)) (\(event.member.address))")
            }
            await cluster.apply(event)
            remember(event)
        }
    }

    static func kind(of event: MembershipEvent) -> String {
        switch event {
        case .join: "join"
        case .update: "update"
        case .suspect: "suspect"
        case .dead: "dead"
        case .left: "left"
        }
    }

    /// The configured seeds, and the hosts this weft knew before it restarted.
    private func seedsToJoin() -> [GossipAddress] {
        let known = store.current.knownPeers.compactMap { GossipAddress(parsing: $0, defaultPort: gossipPort) }
        return seeds + known.filter { $0 != ownAddress && !seeds.contains($0) }
    }

    /// Seeds may start after this host: retry, backing off, until one answers.
    private func join(_ seeds: [GossipAddress]) async {
        var pause = timing.joinBackoff.lowerBound
        while !Task.isCancelled {
            do {
                let answered = try await node.join(seeds)
                logger.info("joined the cluster", metadata: ["seeds answered": "\(answered)"])
                return
            } catch {
                logger.warning("no seed answered yet", metadata: ["seeds": "\(seeds)", "retry in": "\(pause)", "error": "\(error)"])
            }
            do { try await clock.sleep(for: pause) } catch { return }
            pause = min(pause * 2, timing.joinBackoff.upperBound)
        }
    }

    /// Keeps the list of peers in the state: a host that joins is remembered, one that leaves is forgotten (a
    /// failed host stays: it may come back).
    private func remember(_ event: MembershipEvent) {
        guard event.member.name != node.name else { return }
        let address = event.member.address.description
        do {
            try store.update { state in
                switch event {
                case .join: if !state.knownPeers.contains(address) { state.knownPeers.append(address) }
                case .left: state.knownPeers.removeAll { $0 == address }
                case .update, .suspect, .dead: break
                }
            }
        } catch {
            logger.warning("cannot save the peer list", metadata: ["error": "\(error)"])
        }
    }
}
