import Foundation
import Gossip
import Logging
import Testing
import TestSupport

/// Three serf agents (one with compression off) and two weft nodes (one compressing its streams, one not) stay
/// together for `WEFT_INTEROP_SOAK_SECONDS` (default 60, as the issue asks) with no suspicion in serf's logs.
@Suite("serf soak", .enabled(if: SerfAgent.isInstalled, "needs Debian's serf (make deps)"))
struct SerfSoakTests {
    static var soak: Duration {
        .seconds(Int(ProcessInfo.processInfo.environment["WEFT_INTEROP_SOAK_SECONDS"] ?? "") ?? 60)
    }

    @Test("3 serf + 2 weft stay together without suspicion; compression on and off; serf events reach weft",
          .timeLimit(.minutes(3)))
    func soak() async throws {
        try await withSerfAgents { agents in
            let a = try agents.start("soak-a", port: 28_146, rpcPort: 28_573)
            #expect(await eventually(within: .seconds(10), every: .milliseconds(100)) { await !a.members().isEmpty } != nil)
            let b = try agents.start("soak-b", port: 28_147, rpcPort: 28_574, join: a.bind, extra: ["-disable-compression"])
            let c = try agents.start("soak-c", port: 28_148, rpcPort: 28_575, join: a.bind)
            let delegate = RecordingDelegate()
            let first = try await Self.node("weft-s1", port: 28_150, compress: true, delegate: delegate)
            let second = try await Self.node("weft-s2", port: 28_151, compress: false, delegate: nil)
            do {
                try await Self.check(serf: [a, b, c], weft: [first, second], delegate: delegate)
            } catch {
                await first.stop()
                await second.stop()
                throw error
            }
            await first.stop()
            await second.stop()
        }
    }

    static func check(serf agents: [SerfAgent], weft nodes: [GossipNode], delegate: RecordingDelegate) async throws {
        let (a, b, c) = (agents[0], agents[1], agents[2])
        let (first, second) = (nodes[0], nodes[1])
        try await first.join([GossipAddress(parsing: b.bind)!])
        try await second.join([GossipAddress(parsing: c.bind)!])
        let names: Set<String> = ["soak-a", "soak-b", "soak-c", "weft-s1", "weft-s2"]
        let together = await eventually(within: Self.convergenceBound) { await Self.together(agents, nodes, names) }
        #expect(together != nil, "a: \(a.lastMembers), b: \(b.lastMembers), c: \(c.lastMembers)")

        try await b.sendEvent("deploy", payload: "v1")
        let event = await eventually(within: .seconds(10)) {
            delegate.messages.contains { $0.first == 3 && String(decoding: $0, as: UTF8.self).contains("deploy") }
        }
        #expect(event != nil, "weft received: \(delegate.messages.map { $0.first ?? 0 })")

        try await Task.sleep(for: Self.soak)
        for agent in agents {
            let alive = await Set(agent.members().filter { $0.status == "alive" }.map(\.name))
            #expect(alive == names, "\(agent.name) sees \(agent.lastMembers)")
            let suspicion = agent.log.split(separator: "\n").filter {
                $0.contains("Suspect") || $0.contains("Failed ping") || $0.contains("[ERR]") || $0.contains("[WARN]")
            }
            #expect(suspicion.isEmpty, "\(agent.name) logged: \(suspicion)")
        }
        for node in nodes {
            let statistics = await node.statistics
            #expect(
                statistics.failedProbes == 0 && statistics.malformedPackets == 0 && statistics.malformedStreams == 0,
                "\(node.name): \(statistics)")
        }
    }

    /// How long five members may take to all list each other: what memberlist promises, not what gossip usually
    /// does (about 1 s). A broadcast is sent a fixed number of times (4 at this size) to 3 random peers of 4, so
    /// one member can miss a piece of news; five serf agents alone, joined the same way, missed the 15 s this test
    /// used to allow once in 79 starts. The push/pull sync repairs that: each member's first comes after a random
    /// stagger and one interval, both at most 30 s in serf's LAN profile and weft's default.
    static let convergenceBound: Duration = .seconds(65)

    static func together(_ agents: [SerfAgent], _ nodes: [GossipNode], _ names: Set<String>) async -> Bool {
        for agent in agents {
            let alive = await Set(agent.members().filter { $0.status == "alive" }.map(\.name))
            if alive != names { return false }
        }
        for node in nodes where await node.members(includingGone: false).count != names.count {
            return false
        }
        return true
    }

    static func node(
        _ name: String, port: Int, compress: Bool, delegate: RecordingDelegate?
    ) async throws -> GossipNode {
        var logger = Logger(label: "weft.gossip.\(name)")
        logger.logLevel = .warning
        var configuration = GossipConfiguration(name: name, tags: ["role": "weft"], logger: logger)
        configuration.compressStreams = compress
        // serf compresses UDP gossip (memberlist's default); weft refuses it unless told.
        configuration.acceptCompressedPackets = true
        let transport = try await NIOGossipTransport.bind(GossipAddress(ip: .v4(IPv4Address(127, 0, 0, 5)), port: UInt16(port)))
        let node = try GossipNode(configuration: configuration, transport: transport, delegate: delegate)
        await node.start()
        return node
    }
}
