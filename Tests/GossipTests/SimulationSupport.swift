import Gossip
import Logging
import Testing

/// Every suite that runs nodes on scaled-down timings, run one after another: their timeouts are tens of
/// milliseconds, so they must not compete with each other for the two cores.
@Suite("Gossip on scaled timings", .serialized)
enum ScaledTimeGossipTests {}

/// A cluster of gossip nodes on one ``SimulatedNetwork``, with timings scaled down for fast tests.
struct SimulatedCluster: Sendable {
    let network = SimulatedNetwork()
    var nodes: [GossipNode] = []
    var addresses: [GossipAddress] = []
    let configuration: @Sendable (Int) -> GossipConfiguration

    /// `scale` multiplies every LAN interval (0.1: probe every 100 ms, suspicion from 0.4 s).
    init(scale: Double, configure: @escaping @Sendable (inout GossipConfiguration) -> Void = { _ in }) {
        configuration = { index in
            var logger = Logger(label: "sim")
            logger.logLevel = .critical
            var config = GossipConfiguration(name: "node-\(index)", tags: ["id": "\(index)"], logger: logger)
                .scaled(by: scale)
            configure(&config)
            return config
        }
    }

    static func address(_ index: Int) -> GossipAddress {
        GossipAddress(ip: .v4(IPv4Address(10, 0, UInt8(index / 250), UInt8(index % 250 + 1))), port: 7946)
    }

    /// Starts `count` more nodes.
    mutating func start(_ count: Int) async throws {
        for _ in 0..<count {
            let index = nodes.count
            let address = Self.address(index)
            let node = try GossipNode(configuration: configuration(index), transport: network.attach(address))
            await node.start()
            nodes.append(node)
            addresses.append(address)
        }
    }

    /// Every node's count of alive members (itself included).
    func aliveCounts(among indices: [Int]? = nil) async -> [Int] {
        var counts: [Int] = []
        for index in indices ?? Array(nodes.indices) {
            counts.append(await nodes[index].members().filter { $0.state == .alive }.count)
        }
        return counts
    }

    func stopAll() async {
        for node in nodes { await node.stop() }
    }
}

/// Starts `size` nodes, runs `body`, and stops every node afterwards, also when `body` throws.
func withCluster(
    scale: Double, size: Int, _ body: (SimulatedCluster) async throws -> Void
) async throws {
    var cluster = SimulatedCluster(scale: scale)
    try await cluster.start(size)
    do {
        try await body(cluster)
    } catch {
        await cluster.stopAll()
        throw error
    }
    await cluster.stopAll()
}
