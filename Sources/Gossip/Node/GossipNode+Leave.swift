/// The graceful leave (serf intent first when serf-compatible, then `dead` about ourselves).
extension GossipNode {
    /// Leaves gracefully: a serf leave intent (when serf-compatible), then a `dead` about ourselves from
    /// ourselves, each waited for until fully gossiped or until `timeout`. Peers show the node as `left`.
    /// Call ``stop()`` afterwards.
    public func leave(timeout: Duration = .seconds(5)) async {
        guard running, !leaving else { return }
        let deadline = clock.now + timeout
        let othersAlive = members.values.contains { $0.name != name && $0.state == .alive }
        if configuration.serfCompatible && othersAlive {
            let intent = SerfIntent.leave(lamportTime: serfClock + 1, node: name)
            let id = applicationBroadcasts.enqueue([MessageType.user.rawValue] + intent, key: "serf-intent:\(name)")
            await waitUntilSent(id, application: true, before: min(deadline, clock.now + timeout / 2))
        }
        leaving = true
        handleDead(Dead(incarnation: incarnation, node: name, from: name))
        if othersAlive {
            let id = broadcastID(forKey: name)
            await waitUntilSent(id, application: false, before: deadline)
        }
    }

    private func broadcastID(forKey key: String) -> UInt64? {
        broadcasts.id(forKey: key)
    }

    private func waitUntilSent(
        _ id: UInt64?, application: Bool, before deadline: ContinuousClock.Instant
    ) async {
        guard let id else { return }
        while clock.now < deadline && (application ? applicationBroadcasts : broadcasts).contains(id: id) {
            try? await Task.sleep(for: configuration.gossipInterval / 2)
        }
    }
}
