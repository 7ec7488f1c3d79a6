import Logging

/// The graceful leave (serf intent first when serf-compatible, then `dead` about ourselves), and coming back.
extension GossipNode {
    /// Whether the node has left gracefully and not joined again.
    public var hasLeft: Bool { leaving }

    /// Leaves gracefully: a serf leave intent (when serf-compatible), then a `dead` about ourselves from
    /// ourselves, each waited for until fully gossiped or until `timeout`. Peers show the node as `left`.
    /// Call ``stop()`` afterwards, or stay quiet and come back later with ``join(_:)``: a node that has left
    /// forgets its peers, answers what it is sent (a ping, a push/pull) but takes nothing in, and neither
    /// probes, pushes nor pulls.
    ///
    /// `reason`, when given, is first gossiped as the tag ``leaveReasonTag`` (an alive at a higher incarnation,
    /// waited for up to half of `timeout`), so peers show why the node left; the next ``join(_:)`` drops it.
    public func leave(timeout: Duration = .seconds(5), reason: String? = nil) async {
        guard running, !leaving else { return }
        let deadline = clock.now + timeout
        var othersAlive = members.values.contains { $0.name != name && $0.state == .alive }
        if let reason, othersAlive {
            var tags = SerfTags.decode(meta)
            tags[Self.leaveReasonTag] = String(reason.prefix(100))
            if (try? updateTags(tags)) != nil {
                await waitUntilSent(broadcastID(forKey: name), application: false, before: clock.now + timeout / 2)
            }
            guard running, !leaving else { return }
            othersAlive = members.values.contains { $0.name != name && $0.state == .alive }
        }
        if configuration.serfCompatible && othersAlive {
            let id = applicationBroadcasts.enqueue(serfLeaveIntent(), key: "serf-intent:\(name)")
            await waitUntilSent(id, application: true, before: min(deadline, clock.now + timeout / 2))
        }
        leaving = true
        handleDead(Dead(incarnation: incarnation, node: name, from: name), fromWire: false)
        if othersAlive {
            let id = broadcastID(forKey: name)
            await waitUntilSent(id, application: false, before: deadline)
        }
        if leaving { forgetPeers() }
    }

    /// The serf leave intent as a user message, one Lamport tick above the highest time seen (saturating: a peer
    /// may have sent 2⁶⁴−1).
    func serfLeaveIntent() -> [UInt8] {
        [MessageType.user.rawValue] + SerfIntent.leave(lamportTime: serfClock.saturatingIncrement, node: name)
    }

    /// Undoes a leave before a join: the node, which forgot its peers when it left (the seeds' push/pull brings
    /// each back, with a join event), announces itself alive above the incarnation it left at, which peers that
    /// saw it leave accept.
    func reenterAfterLeave() {
        guard leaving else { return }
        forgetPeers()
        var tags = SerfTags.decode(meta)
        if tags.removeValue(forKey: Self.leaveReasonTag) != nil { meta = SerfTags.encode(tags) }
        guard var me = members[name] else { return }
        leaving = false
        broadcasts = BroadcastQueue()
        incarnation = max(incarnation, me.incarnation).saturatingIncrement
        me.incarnation = incarnation
        me.meta = meta
        me.state = .alive
        me.stateChange = clock.now
        members[name] = me
        broadcasts.enqueue(me.aliveMessage.encoded(), key: name)
        logger.info("coming back after a leave", metadata: ["incarnation": "\(incarnation)"])
    }

    /// The tag a node that leaves with a reason gossips it in.
    public static let leaveReasonTag = "left-because"

    private func forgetPeers() {
        for timer in suspicions.values { timer.task.cancel() }
        suspicions.removeAll()
        failedPeers.removeAll()
        members = members.filter { $0.key == name }
        probeOrder = [name]
        probeIndex = 0
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
