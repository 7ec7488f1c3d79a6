import Gossip
import Logging
import Netlink
import Overlay
import Synchronization

/// A host as the cluster tests simulate it: a name, a VTEP (also its gossip address), an identity key, and the
/// gossip member record the others see, whose tags carry the VTEP and the public key as the daemon's do.
struct SimulatedHost: Sendable {
    let name: String
    let vtep: IPAddress
    let identity: NodeIdentity

    init(_ name: String, vtep: String, identity: NodeIdentity = NodeIdentity()) {
        self.name = name
        self.vtep = IPAddress(vtep)!
        self.identity = identity
    }

    var tags: [String: String] { ["role": "weft", "vtep": vtep.description].merging(identity.tags) { $1 } }

    var member: Member {
        Member(name: name, address: GossipAddress(ip: vtep, port: 7946), meta: SerfTags.encode(tags), incarnation: 1,
               state: .alive, versions: [])
    }

    func state(logger: Logger = Logger(label: "test"), limits: ClusterLimits = .standard,
               wallClock: @escaping @Sendable () -> UInt64 = ClusterState.wallClockMilliseconds) -> ClusterState {
        ClusterState(node: name, identity: identity, limits: limits, logger: logger, wallClock: wallClock)
    }

    /// This host's gossip node on the in-memory `network` (timings scaled by 0.1), started, its cluster state
    /// as its delegate and fed its membership events, as the daemon's maintenance does; not joined to anyone.
    func startGossip(on network: SimulatedNetwork, logger: Logger) async throws -> (node: GossipNode, cluster: ClusterState) {
        let cluster = state(logger: logger)
        let node = try GossipNode(
            configuration: GossipConfiguration(name: name, tags: tags, logger: logger).scaled(by: 0.1),
            transport: network.attach(GossipAddress(ip: vtep, port: 7946)), delegate: cluster)
        await cluster.attach { payload, key in await node.broadcast(payload, key: key) }
        Task { for await event in node.events { await cluster.apply(event) } }
        await node.start()
        return (node, cluster)
    }

    /// An update of this host's, signed with its key.
    func signed(_ update: ClusterCodec.Update) -> ClusterCodec.Update { identity.signing(update) }
}

/// Cluster states wired to each other directly: every broadcast delivered at once to every other state, and
/// every state told that every other host joined.
final class SimulatedCluster: Sendable {
    let states: Mutex<[(host: SimulatedHost, state: ClusterState)]> = Mutex([])

    /// Adds a host: it learns the hosts already there, and they learn it.
    @discardableResult
    func add(_ host: SimulatedHost, state: ClusterState? = nil) async -> ClusterState {
        let state = state ?? host.state()
        await state.attach { [self] payload, _ in
            for peer in self.states.withLock({ $0 }) where peer.host.name != host.name {
                _ = await peer.state.notifyMessage(payload)
            }
        }
        let others = states.withLock { states in
            defer { states.append((host, state)) }
            return states
        }
        for other in others {
            await state.apply(.join(other.host.member))
            await other.state.apply(.join(host.member))
        }
        return state
    }

    var all: [ClusterState] { states.withLock { $0.map(\.state) } }
}
