/// What the node keeps about one member (memberlist's `nodeState`).
struct MemberRecord: Sendable {
    var name: String
    var address: GossipAddress
    var meta: [UInt8]
    var versions: [UInt8]
    var incarnation: UInt32
    var state: NodeState
    /// When `state` last changed.
    var stateChange: ContinuousClock.Instant

    var member: Member {
        Member(name: name, address: address, meta: meta, incarnation: incarnation, state: state, versions: versions)
    }

    var protocolMax: UInt8 { versions.count >= 2 ? versions[1] : 0 }

    var aliveMessage: Alive {
        Alive(incarnation: incarnation, node: name, addr: address.ip.bytes, port: address.port, meta: meta, vsn: versions)
    }

    var pushState: PushNodeState {
        PushNodeState(
            name: name, addr: address.ip.bytes, port: address.port, meta: meta, incarnation: incarnation, state: state,
            vsn: versions)
    }
}

/// A suspicion and the task that fires when it expires.
struct SuspicionTimer: Sendable {
    var suspicion: Suspicion
    var task: Task<Void, Never>
}

/// What a probe waits for.
enum ProbeReply: Sendable {
    case ack(payload: [UInt8]?)
    case nack
    /// An ack over the TCP fallback.
    case tcpAck
    /// A phase deadline passed (1: the direct probe timeout, 2: the whole probe).
    case deadline(Int)
}
