/// What swarm's calls to a network driver say about this host's place in weft's gossip: the plugin backend
/// reports them, ``SwarmGossip`` decides when to join and when to leave (the networks this host allocated as a
/// manager, in the state, count too).
public protocol SwarmMembership: Sendable {
    /// A swarm network arrived here (CreateNetwork) carrying the gossip seeds AllocateNetwork gave it (this
    /// host's own address left out): join them if not yet a member. Returns at once; joining goes on behind.
    func networkArrived(seeds: [String]) async

    /// A swarm network arrived carrying the cluster's gossip key (AllocateNetwork put the manager's primary key
    /// in its options): install it and make it primary before joining, so the nodes of a swarm gossip keyed with
    /// no operator action.
    /// Throws when the text is not a key (base64 of 16, 24 or 32 bytes); the error never quotes it.
    func clusterKeyArrived(_ base64: String) async throws

    /// The key a manager gives the networks it allocates: this host's primary gossip key in base64 (nil: plaintext).
    func clusterKey() async -> String?
}
