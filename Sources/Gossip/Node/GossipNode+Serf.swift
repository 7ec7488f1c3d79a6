/// What a serf-compatible node learns from serf's own messages: its Lamport clock, so a leave intent is accepted.
extension GossipNode {
    /// Tracks serf's Lamport clock from its join and leave intents.
    func witnessSerfMessage(_ payload: [UInt8]) {
        guard let type = payload.first, type == SerfIntent.leaveType || type == SerfIntent.joinType,
            let time = SerfIntent.lamportTime(in: Array(payload.dropFirst()))
        else { return }
        serfClock = max(serfClock, time)
    }

    /// Tracks serf's Lamport clock from its push/pull state (`02` + msgpack with `LTime` and `StatusLTimes`).
    func witnessSerfPushPull(_ userState: [UInt8]) {
        guard userState.first == SerfIntent.pushPullType else { return }
        serfClock = max(serfClock, SerfIntent.highestLamportTime(inPushPull: Array(userState.dropFirst())))
    }
}
