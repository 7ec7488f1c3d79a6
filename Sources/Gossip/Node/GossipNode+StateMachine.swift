import Logging
/// memberlist's `aliveNode`, `suspectNode`, `deadNode` and `refute` (`state.go`, reference §7.5–7.8).
extension GossipNode {
    /// Handles an alive message (gossip, push/pull merge, or our own with `bootstrap` at start).
    ///
    /// `aheadLimit` is how far above the known incarnation the alive may be (default
    /// ``GossipConfiguration/maxIncarnationJump``); see ``GossipNode`` "Membership rules".
    func handleAlive(_ alive: Alive, bootstrap: Bool = false, aheadLimit: UInt32? = nil) {
        let isLocal = alive.node == name
        if leaving { return }
        if alive.vsn.count >= 3 {
            let pmin = alive.vsn[0], pmax = alive.vsn[1]
            if pmin == 0 || pmax == 0 || pmin > pmax {
                logger.warning("ignoring an alive with invalid protocol versions", metadata: ["node": "\(alive.node)"])
                return
            }
        }
        guard let address = GossipAddress(wire: alive.addr, port: alive.port) else {
            counters.invalidAddresses += 1
            logLimit("invalid-address", "ignoring an alive whose address is not 4 or 16 bytes", metadata: ["node": "\(alive.node)"])
            return
        }
        let now = clock.now
        var updatesNode = false
        var record: MemberRecord
        if let known = members[alive.node] {
            record = known
            if known.address != address {
                guard known.state == .left else {
                    counters.addressConflicts += 1
                    logger.warning(
                        "conflicting address for a node",
                        metadata: ["node": "\(alive.node)", "known": "\(known.address)", "other": "\(address)"])
                    return
                }
                updatesNode = true
            }
            let limit = aheadLimit ?? configuration.maxIncarnationJump
            if !bootstrap && !alive.incarnation.isWithin(limit, above: known.incarnation) {
                counters.refusedAlives += 1
                logLimit(
                    "incarnation-jump", "refused an alive far above the incarnation known for its node",
                    metadata: [
                        "node": "\(alive.node)", "incarnation": "\(alive.incarnation)", "known": "\(known.incarnation)",
                    ])
                return
            }
        } else {
            guard admitNewMember() else {
                counters.refusedMembers += 1
                logLimit(
                    "members", "refused a new node: the member table is full of live nodes",
                    metadata: ["node": "\(alive.node)", "cap": "\(configuration.maxMembers)"])
                return
            }
            record = MemberRecord(
                name: alive.node, address: address, meta: [], versions: [], incarnation: 0, state: .dead,
                stateChange: now)
            members[alive.node] = record
            probeOrder.insert(alive.node, at: Int.random(in: 0...probeOrder.count))
        }
        if !isLocal && alive.incarnation <= record.incarnation && !updatesNode { return }
        if isLocal && alive.incarnation < record.incarnation { return }
        cancelSuspicion(alive.node)
        let oldState = record.state
        let newMeta = alive.meta ?? []
        let metaChanged = record.meta != newMeta
        if isLocal && !bootstrap {
            if alive.incarnation == record.incarnation && !metaChanged && alive.vsn == record.versions { return }
            refute(accusedIncarnation: alive.incarnation)
            logger.debug("refuted an alive about us", metadata: ["incarnation": "\(alive.incarnation)"])
            return
        }
        broadcasts.enqueue(alive.encoded(), key: alive.node)
        if alive.vsn.count >= 6 { record.versions = Array(alive.vsn.prefix(6)) }
        record.incarnation = alive.incarnation
        record.meta = newMeta
        record.address = address
        if record.state != .alive {
            record.state = .alive
            record.stateChange = now
        }
        members[alive.node] = record
        failedPeers.removeValue(forKey: alive.node)
        if oldState == .dead || oldState == .left {
            emit(.join(record.member))
        } else if metaChanged {
            emit(.update(record.member))
        }
    }

    /// Handles a suspect message; starts or confirms a Lifeguard suspicion.
    ///
    /// `fromWire`: the accuser is named by a received message and must be a current member other than this node;
    /// this node's own probes and merges vouch for themselves. `aheadLimit`: how far above the known incarnation
    /// the accusation may be (one, except this node's own state in a join reply).
    func handleSuspect(_ suspect: Suspect, fromWire: Bool, aheadLimit: UInt32 = 1) {
        guard !leaving, var record = members[suspect.node], suspect.incarnation >= record.incarnation else { return }
        guard acceptsAccusation(
            by: fromWire ? suspect.from : nil, about: record, at: suspect.incarnation, aheadLimit: aheadLimit)
        else { return }
        if var timer = suspicions[suspect.node] {
            if timer.suspicion.confirm(suspect.from) {
                broadcasts.enqueue(suspect.encoded(), key: suspect.node)
                timer.task.cancel()
                timer.task = scheduleSuspicionExpiry(
                    suspect.node, at: timer.suspicion.deadline, stateChange: record.stateChange)
                suspicions[suspect.node] = timer
            }
            return
        }
        guard record.state == .alive else { return }
        if suspect.node == name {
            refute(accusedIncarnation: suspect.incarnation)
            logger.debug("refuted a suspicion", metadata: ["from": "\(suspect.from)"])
            return
        }
        broadcasts.enqueue(suspect.encoded(), key: suspect.node)
        let now = clock.now
        record.incarnation = suspect.incarnation
        record.state = .suspect
        record.stateChange = now
        members[suspect.node] = record
        let count = estimatedNodeCount
        let minimum = configuration.suspicionMinimum(nodeCount: count)
        let suspicion = Suspicion(
            from: suspect.from,
            wanted: LifeguardTiming.suspicionConfirmationsWanted(
                multiplier: configuration.suspicionMultiplier, nodeCount: count),
            minimum: minimum, maximum: minimum * configuration.suspicionMaxTimeoutMultiplier, now: now)
        let task = scheduleSuspicionExpiry(suspect.node, at: now + suspicion.initialTimeout, stateChange: now)
        suspicions[suspect.node] = SuspicionTimer(suspicion: suspicion, task: task)
        emit(.suspect(record.member))
    }

    /// Handles a dead message; `dead.node == dead.from` is a graceful leave. `fromWire` as for
    /// ``handleSuspect(_:fromWire:aheadLimit:)``; the incarnation may be at most one above the known one.
    func handleDead(_ dead: Dead, fromWire: Bool) {
        // Having left, the node takes in nothing about others; its own leave still comes through here.
        if leaving && dead.node != name { return }
        guard var record = members[dead.node], dead.incarnation >= record.incarnation else { return }
        if record.state == .dead || record.state == .left { return }
        guard acceptsAccusation(by: fromWire ? dead.from : nil, about: record, at: dead.incarnation, aheadLimit: 1)
        else { return }
        cancelSuspicion(dead.node)
        if dead.node == name && !leaving {
            refute(accusedIncarnation: dead.incarnation)
            logger.debug("refuted a death", metadata: ["from": "\(dead.from)"])
            return
        }
        broadcasts.enqueue(dead.encoded(), key: dead.node)
        record.incarnation = dead.incarnation
        record.state = dead.isLeave ? .left : .dead
        record.stateChange = clock.now
        members[dead.node] = record
        if dead.isLeave {
            failedPeers.removeValue(forKey: dead.node)
        } else if dead.node != name {
            rememberFailedPeer(dead.node, at: record.address, since: record.stateChange)
        }
        emit(dead.isLeave ? .left(record.member) : .dead(record.member))
    }

    /// Raises our incarnation above `accusedIncarnation` and gossips alive; awareness +1.
    /// Saturates at `UInt32.max` rather than trapping: a peer that accuses us at the largest incarnation must not
    /// crash the node (Go's memberlist wraps to 0 there, after which nobody believes it).
    func refute(accusedIncarnation: UInt32) {
        incarnation = incarnation.saturatingIncrement
        if accusedIncarnation >= incarnation { incarnation = accusedIncarnation.saturatingIncrement }
        counters.refutations += 1
        awareness.apply(1)
        guard var me = members[name] else { return }
        me.incarnation = incarnation
        me.meta = meta
        me.state = .alive
        members[name] = me
        broadcasts.enqueue(me.aliveMessage.encoded(), key: name)
    }

    func cancelSuspicion(_ node: String) {
        suspicions.removeValue(forKey: node)?.task.cancel()
    }

    private func scheduleSuspicionExpiry(
        _ node: String, at deadline: ContinuousClock.Instant, stateChange: ContinuousClock.Instant
    ) -> Task<Void, Never> {
        Task {
            do { try await Task.sleep(until: deadline, clock: ContinuousClock()) } catch { return }
            self.suspicionExpired(node, stateChange: stateChange)
        }
    }

    private func suspicionExpired(_ node: String, stateChange: ContinuousClock.Instant) {
        guard let record = members[node], record.state == .suspect, record.stateChange == stateChange else { return }
        suspicions.removeValue(forKey: node)
        logger.info("marking a node as failed, suspicion expired", metadata: ["node": "\(node)"])
        handleDead(Dead(incarnation: record.incarnation, node: node, from: name), fromWire: false)
    }

    /// Whether a suspect or dead about `record` at `incarnation` may be applied: the accuser (`nil` for this node
    /// itself) is a current member other than this node (or the accusation is about this node), and the incarnation is at most `aheadLimit` above the
    /// one known. Counts and logs a refusal.
    private func acceptsAccusation(
        by accuser: String?, about record: MemberRecord, at incarnation: UInt32, aheadLimit: UInt32
    ) -> Bool {
        var isMember = true
        // About this node anything within the bound is refuted, whoever says it: peers that believed it must
        // hear the refutation.
        if let accuser, record.name != name {
            let state = members[accuser]?.state
            isMember = accuser != name && (state == .alive || state == .suspect)
        }
        guard isMember, incarnation.isWithin(aheadLimit, above: record.incarnation) else {
            counters.refusedAccusations += 1
            logLimit(
                "accusation",
                isMember
                    ? "refused a suspect or dead far above the incarnation known for its node"
                    : "refused a suspect or dead from a node that is not a current member",
                metadata: [
                    "node": "\(record.name)", "from": "\(accuser ?? name)", "incarnation": "\(incarnation)",
                    "known": "\(record.incarnation)",
                ])
            return false
        }
        return true
    }

    /// Keeps a failed node for reconnection, at most ``GossipConfiguration/maxMembers`` of them (the oldest
    /// failure is forgotten first): they outlive their member entries, so nodes that join and die would otherwise
    /// pile up for a whole ``GossipConfiguration/reconnectTimeout``.
    private func rememberFailedPeer(_ node: String, at address: GossipAddress, since: ContinuousClock.Instant) {
        if failedPeers[node] == nil, failedPeers.count >= configuration.maxMembers,
            let oldest = failedPeers.min(by: { $0.value.since < $1.value.since })?.key
        {
            failedPeers.removeValue(forKey: oldest)
        }
        failedPeers[node] = (address, since)
    }

    /// Makes room for one more node: below ``GossipConfiguration/maxMembers``, or by forgetting the dead or left
    /// node gone longest. `false` when every known node is alive or suspect.
    private func admitNewMember() -> Bool {
        guard members.count >= configuration.maxMembers else { return true }
        let gone = members.values.filter { $0.name != name && ($0.state == .dead || $0.state == .left) }
        guard let oldest = gone.min(by: { $0.stateChange < $1.stateChange }) else { return false }
        members.removeValue(forKey: oldest.name)
        probeStatistics[oldest.name] = nil
        cancelSuspicion(oldest.name)
        if let index = probeOrder.firstIndex(of: oldest.name) {
            probeOrder.remove(at: index)
            if index < probeIndex { probeIndex -= 1 }
        }
        return true
    }
}

extension FixedWidthInteger where Self: UnsignedInteger {
    /// `self + 1`, or `self` at the maximum: incarnations and Lamport clocks come from the wire.
    var saturatingIncrement: Self { self == .max ? self : self + 1 }

    /// Whether `self` is at most `limit` above `known` (never overflows).
    func isWithin(_ limit: Self, above known: Self) -> Bool {
        let (ceiling, overflow) = known.addingReportingOverflow(limit)
        return overflow || self <= ceiling
    }
}
