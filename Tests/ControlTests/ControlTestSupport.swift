import Control
import DockerPlugin
import Foundation
import Glibc
import Gossip
import Logging
import Netlink
import Overlay
import TestSupport

let networkNamespaceDirectory = "/run/weft-control-test/netns"

/// A host of an in-memory cluster: its gossip node on the simulated network, its cluster tables, and (for the
/// host under test) an overlay driver on the dry-run kernel with the cluster maintenance wiring membership
/// events into the tables and table changes into the kernel.
final class TestHost: Sendable {
    let name: String
    let vtep: IPAddress
    let address: GossipAddress
    let node: GossipNode
    let cluster: ClusterState
    let backend: DryRunBackend
    let store: StateStore
    let driver: OverlayDriver
    let host: HostSettings

    init(_ name: String, vtep: String, network: SimulatedNetwork) throws {
        self.name = name
        self.vtep = IPAddress(vtep)!
        address = GossipAddress(ip: self.vtep, port: 7946)
        let identity = NodeIdentity()
        cluster = ClusterState(node: name, identity: identity, logger: silentLogger)
        let tags = ["role": "weft", "vtep": vtep].merging(identity.tags) { $1 }
        node = try GossipNode(
            configuration: GossipConfiguration(name: name, tags: tags, logger: silentLogger).scaled(by: 0.1),
            transport: network.attach(address), delegate: cluster)
        backend = DryRunBackend(seedFromCurrentNamespace: false, output: { _ in })
        store = StateStore(inMemory: PersistentState())
        host = HostSettings(advertiseAddress: self.vtep, underlayMTU: 1500, namespaceDirectory: networkNamespaceDirectory)
        driver = OverlayDriver(host: host, backend: backend, store: store, logger: silentLogger, cluster: cluster)
    }

    var source: StatusSource {
        StatusSource(version: "test", host: host, node: node, cluster: cluster, driver: driver, store: store)
    }

    /// Starts gossip and the maintenance (its repair pass an hour apart: the tests run it by hand); returns the
    /// task to cancel at the end.
    func start(seeds: [GossipAddress]) async throws -> Task<Void, Never> {
        await cluster.attach { [node] payload, key in await node.broadcast(payload, key: key) }
        await node.start()
        try await driver.start()
        var timing = ClusterMaintenance<ContinuousClock>.Timing()
        timing.repairInterval = .seconds(3600)
        let maintenance = ClusterMaintenance(
            node: node, swarm: nil, cluster: cluster, driver: driver, store: store, seeds: seeds, gossipPort: 7946,
            ownAddress: address, timing: timing, clock: ContinuousClock(), logger: silentLogger)
        return Task { await maintenance.run() }
    }

    /// The VXLAN device's namespace for a VNI, on the dry-run kernel.
    func session(vni: UInt32) throws -> NetlinkSession {
        try backend.session(in: KernelLayout(vni: VNI(vni)!, namespaceDirectory: networkNamespaceDirectory).namespace)
    }
}

func subnet(_ text: String) -> IPv4Subnet {
    (try? IPv4Subnet(parsing: text))!
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs blocking work (a synchronous socket client, a child process) on a thread of its own, so that it never
/// holds one of the few cooperative threads the server under test needs to answer it.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// `GET path` (or another method) on the Unix socket at `path`.
func request(_ path: String, _ target: String, method: String = "GET", body: String = "") async throws -> (status: Int, body: String) {
    try await withConnection(to: path) { connection in
        guard let reply = try await connection.request(method, target, body: body) else {
            throw TestFailure("\(path) closed without answering \(method) \(target)")
        }
        return (reply.status, reply.body)
    }
}

/// The events after `sequence` as `GET /events` gives them, page by page (a reply holds at most 256) up to the
/// newest, their JSON replies joined; nil when a reply is not a batch. The journal is the process's, shared with
/// the tests running beside one.
func eventPages(after sequence: UInt64, from source: StatusSource) async -> String? {
    var after = sequence
    var text = ""
    for _ in 0..<8 {
        let reply = await ControlRouter(source: source).respond(method: "GET", path: "/events?after=\(after)", body: [])
        guard reply.status == 200, let batch = try? JSONDecoder().decode(EventBatch.self, from: Data(reply.body)) else { return nil }
        text += String(decoding: reply.body, as: UTF8.self)
        guard let last = batch.events.last?.sequence, last < batch.latest else { break }
        after = last
    }
    return text
}
