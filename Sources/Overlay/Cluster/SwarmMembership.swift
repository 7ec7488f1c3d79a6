/// What swarm's calls to a network driver say about this host's place in weft's gossip: the plugin backend
/// reports them, ``SwarmGossip`` decides when to join and when to leave (the networks this host allocated as a
/// manager, in the state, count too).
public protocol SwarmMembership: Sendable {
    /// A swarm network arrived here (CreateNetwork) carrying the gossip seeds AllocateNetwork gave it (this
    /// host's own address left out): join them if not yet a member. Returns at once; joining goes on behind.
    func networkArrived(seeds: [String]) async
}
