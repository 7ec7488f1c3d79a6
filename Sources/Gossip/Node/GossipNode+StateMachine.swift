import Logging
/// memberlist's `aliveNode`, `suspectNode`, `deadNode` and `refute` (`state.go`, reference §7.5–7.8).
extension GossipNode {
    /// Handles an alive message (gossip, push/pull merge, or our own with `bootstrap` at start).
    func handleAlive(_ alive: Alive, bootstrap: Bool = false) {
        let isLocal = alive.node == name
        if leaving { return }
        if alive.vsn.count >= 3 {
            let pmin = alive.vsn[0], pmax = alive.vsn[1]
            if pmin == 0 || pmax == 0 || pmin > pmax {
                logger.warning("ignoring an alive with invalid protocol versions", metadata: ["node": "\(alive.node)"])
                return
            }
        }
        let address = GossipAddress(ip: alive.addr, port: alive.port)
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
        } else {
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
    func handleSuspect(_ suspect: Suspect) {
        guard !leaving, var record = members[suspect.node], suspect.incarnation >= record.incarnation else { return }
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

    /// Handles a dead message; `dead.node == dead.from` is a graceful leave.
    func handleDead(_ dead: Dead) {
        // Having left, the node takes in nothing about others; its own leave still comes through here.
        if leaving && dead.node != name { return }
        guard var record = members[dead.node], dead.incarnation >= record.incarnation else { return }
        cancelSuspicion(dead.node)
        if record.state == .dead || record.state == .left { return }
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
            failedPeers[dead.node] = (record.address, record.stateChange)
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
        handleDead(Dead(incarnation: record.incarnation, node: node, from: name))
    }
}

extension UInt32 {
    /// `self + 1`, or `self` at the maximum.
    var saturatingIncrement: UInt32 { self == .max ? self : self + 1 }
}
