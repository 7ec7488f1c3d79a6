import Logging

/// Joining through seeds, periodic push/pull anti-entropy, and reconnecting to failed nodes.
extension GossipNode {
    /// Joins a cluster through `seeds` (`host:port`; this node's own address is skipped): a join push/pull with
    /// each, retried with backoff.
    /// A node that has left comes back (see ``leave(timeout:)``).
    /// A seed of the other address family than this node's is not tried: a cluster gossips over one family.
    /// Returns how many seeds answered; throws if none did.
    @discardableResult
    public func join(_ seeds: [GossipAddress]) async throws -> Int {
        reenterAfterLeave()
        var joined = 0
        var failures: [String] = []
        let others = seeds.filter { $0 != transport.localAddress }
        for seed in others {
            if let mismatch = GossipError.otherAddressFamily(seed: seed, local: transport.localAddress) {
                logger.warning("seed not joined", metadata: ["seed": "\(seed)", "reason": "\(mismatch)"])
                failures.append("\(mismatch)")
                continue
            }
            var pause = configuration.joinBackoff
            for attempt in 1...max(1, configuration.joinAttempts) {
                do {
                    try await pushPull(with: seed, join: true)
                    joined += 1
                    break
                } catch {
                    logger.debug("join attempt failed", metadata: ["seed": "\(seed)", "attempt": "\(attempt)", "error": "\(error)"])
                    if attempt == configuration.joinAttempts {
                        failures.append("\(seed): \(error)")
                    } else {
                        try await Task.sleep(for: pause)
                        pause = pause * 2
                    }
                }
            }
        }
        if joined == 0 && !others.isEmpty { throw GossipError.joinFailed(failures) }
        return joined
    }

    func periodicPushPull() async {
        guard !leaving else { return }
        let peers = members.values.filter { $0.name != name && $0.state == .alive }
        guard let peer = peers.randomElement() else { return }
        do {
            try await pushPull(with: peer.address, join: false)
        } catch {
            logger.debug("push/pull failed", metadata: ["peer": "\(peer.name)", "error": "\(error)"])
        }
    }

    /// serf's reconnect: a push/pull with one random failed node, which brings back a node across a healed
    /// partition (its refutation follows from what we tell it about itself).
    func reconnect() async {
        guard !leaving else { return }
        let now = clock.now
        failedPeers = failedPeers.filter { now - $0.value.since < configuration.reconnectTimeout }
        guard let (node, peer) = failedPeers.randomElement() else { return }
        do {
            try await pushPull(with: peer.address, join: false)
            logger.info("reconnected to a failed node", metadata: ["node": "\(node)"])
        } catch {
            logger.trace("reconnect failed", metadata: ["node": "\(node)", "error": "\(error)"])
        }
    }
}
