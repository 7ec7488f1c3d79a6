/// What the application (weft's cluster tables) plugs into the gossip node: memberlist's `Delegate`, minus the
/// parts the node does itself (metadata is set with ``GossipNode/updateTags(_:)``; broadcasts are queued with
/// ``GossipNode/broadcast(_:key:)``).
///
/// Every method has a default that does nothing, so a node can run without a delegate.
///
/// The node awaits these calls while it handles the packet or stream that carried the data, so they must
/// return quickly (hand slow work to a task of your own): a delegate that blocks delays acks and gets its node
/// suspected, as memberlist's `NotifyMsg` contract warns.
public protocol GossipDelegate: Sendable {
    /// An application message arrived (a gossiped broadcast, or a reliable message over a stream). In a serf
    /// cluster this also receives serf's own messages (first byte: serf's message type).
    ///
    /// A broadcast reaches only the nodes its sender's retransmit budget covers; return
    /// ``MessageHandling/rebroadcast(key:)`` for a message that was new to you, so it spreads epidemically (as serf
    /// does with its events), and ``MessageHandling/done`` for one you had already seen.
    func notifyMessage(_ payload: [UInt8]) async -> MessageHandling

    /// The application's full state, sent in every push/pull (on join and every push/pull interval).
    func localState(join: Bool) async -> [UInt8]

    /// A peer's ``localState(join:)``, received in a push/pull, after the membership merge. Not called when the
    /// peer sent no state.
    func mergeRemoteState(_ state: [UInt8], join: Bool) async
}

extension GossipDelegate {
    public func notifyMessage(_ payload: [UInt8]) async -> MessageHandling { .done }
    public func localState(join: Bool) async -> [UInt8] { [] }
    public func mergeRemoteState(_ state: [UInt8], join: Bool) async {}
}

/// What the node does with an application message after the delegate has seen it.
public enum MessageHandling: Sendable, Hashable {
    /// Nothing more.
    case done
    /// Gossip it on through the broadcast queue, replacing a queued message with the same key.
    case rebroadcast(key: String?)
}
