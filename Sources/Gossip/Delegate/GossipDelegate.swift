/// What the application (weft's cluster tables) plugs into the gossip node: memberlist's `Delegate`, minus the
/// parts the node does itself (metadata is set with ``GossipNode/updateTags(_:)``; broadcasts are queued with
/// ``GossipNode/broadcast(_:key:)``).
///
/// Every method has a default that does nothing, so a node can run without a delegate.
public protocol GossipDelegate: Sendable {
    /// An application message arrived (a gossiped broadcast, or a reliable message over a stream). In a serf
    /// cluster this also receives serf's own messages (first byte: serf's message type).
    func notifyMessage(_ payload: [UInt8]) async

    /// The application's full state, sent in every push/pull (on join and every push/pull interval).
    func localState(join: Bool) async -> [UInt8]

    /// A peer's ``localState(join:)``, received in a push/pull, after the membership merge. Not called when the
    /// peer sent no state.
    func mergeRemoteState(_ state: [UInt8], join: Bool) async
}

extension GossipDelegate {
    public func notifyMessage(_ payload: [UInt8]) async {}
    public func localState(join: Bool) async -> [UInt8] { [] }
    public func mergeRemoteState(_ state: [UInt8], join: Bool) async {}
}
