import Gossip
import Logging
import Overlay

/// What keeps a daemon's host in the cluster while it runs: membership events into the cluster tables (and the
/// remembered peers), table changes into kernel reprogramming, the periodic repair pass, joining the seeds
/// (configured, and the peers known before a restart) until one answers, and under swarm leaving when idle.
struct ClusterMaintenance: Sendable {
    let node: GossipNode?
    /// Under swarm: leaves the gossip when swarm has left this host no network.
    let swarm: SwarmGossip?
    let cluster: ClusterState
    let driver: OverlayDriver
    let store: StateStore
    let seeds: [GossipAddress]
    let gossipPort: UInt16
    let ownAddress: GossipAddress
    let failedHostGrace: Double
    let logger: Logger

    /// Runs until cancelled.
    func run() async {
        guard let node else { return }
        await withDiscardingTaskGroup { tasks in
            tasks.addTask {
                for await event in node.events {
                    await cluster.apply(event)
                    remember(event)
                }
            }
            tasks.addTask {
                for await vnis in cluster.changes { await driver.remoteChanged(vnis) }
            }
            tasks.addTask {
                // With no seeds, or none answering, this host may be the first: after a while it trusts its own
                // tables (and so removes entries nobody announces any more).
                try? await Task.sleep(for: self.seeds.isEmpty ? .seconds(35) : .seconds(60))
                await cluster.markSynchronized()
            }
            tasks.addTask {
                // Level-triggered: a periodic pass repairs whatever drifted or was missed.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(10))
                    await cluster.expire(failedHostGrace: failedHostGrace)
                    await driver.reconcileAllRemote()
                }
            }
            if let swarm {
                tasks.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        await swarm.leaveIfIdle()
                    }
                }
            }
            let joining = seedsToJoin()
            if !joining.isEmpty {
                tasks.addTask { await join(joining, node: node) }
            }
        }
    }

    /// The configured seeds, and the hosts this weft knew before it restarted.
    private func seedsToJoin() -> [GossipAddress] {
        let known = store.current.knownPeers.compactMap { GossipAddress(parsing: $0, defaultPort: gossipPort) }
        return seeds + known.filter { $0 != ownAddress && !seeds.contains($0) }
    }

    /// Seeds may start after this host: retry, backing off from 0.5 s to 30 s, until one answers.
    private func join(_ seeds: [GossipAddress], node: GossipNode) async {
        var pause = Duration.milliseconds(500)
        while !Task.isCancelled {
            do {
                let answered = try await node.join(seeds)
                logger.info("joined the cluster", metadata: ["seeds answered": "\(answered)"])
                return
            } catch {
                logger.warning("no seed answered yet", metadata: ["seeds": "\(seeds)", "retry in": "\(pause)", "error": "\(error)"])
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(30))
        }
    }

    /// Keeps the list of peers in the state: a host that joins is remembered, one that leaves is forgotten (a
    /// failed host stays: it may come back).
    private func remember(_ event: MembershipEvent) {
        guard event.member.name != node?.name else { return }
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
