import Netlink

/// Records from other hosts that cannot be judged yet: their owner is not (yet) a member, or their endpoint's
/// network is not (yet) defined here. Gossip does not order a host's join, its network and its endpoints, so
/// they wait here (bounded) and are judged again when the owner joins or the network arrives; what waits too
/// long is dropped, since push/pull brings it again.
struct PendingRecords {
    private struct Waiting {
        var update: ClusterCodec.Update
        var owner: String
        var vni: VNI?
        var since: Double
    }

    let capacity: Int
    private var waiting: [String: Waiting] = [:]

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { waiting.count }

    /// Holds an update (the newer of two for one key); false when full.
    mutating func hold(_ update: ClusterCodec.Update, vni: VNI?, at now: Double) -> Bool {
        let envelope = update.envelope
        let id = Self.id(envelope)
        if let held = waiting[id] {
            if held.update.envelope.version < envelope.version {
                waiting[id] = Waiting(update: update, owner: envelope.owner, vni: vni, since: now)
            }
            return true
        }
        guard waiting.count < capacity else { return false }
        waiting[id] = Waiting(update: update, owner: envelope.owner, vni: vni, since: now)
        return true
    }

    /// Takes out the updates of one owner.
    mutating func release(owner: String) -> [ClusterCodec.Update] {
        release { $0.owner == owner }
    }

    /// Takes out the updates of endpoints of one network.
    mutating func release(vni: VNI) -> [ClusterCodec.Update] {
        release { $0.vni == vni }
    }

    mutating func expire(olderThan lifetime: Double, at now: Double) {
        waiting = waiting.filter { now - $0.value.since < lifetime }
    }

    mutating func removeAll() { waiting.removeAll() }

    private mutating func release(where matches: (Waiting) -> Bool) -> [ClusterCodec.Update] {
        let ids = waiting.filter { matches($0.value) }.keys.sorted()
        return ids.compactMap { waiting.removeValue(forKey: $0)?.update }
    }

    private static func id(_ envelope: ClusterCodec.Envelope) -> String { "\(envelope.table.rawValue)/\(envelope.key)" }
}
