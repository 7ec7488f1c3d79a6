import Foundation
import Gossip
import Logging
import Testing
import TestSupport

/// Whether `::1` can be bound here (IPv6 may be disabled in the test's environment).
private var hasIPv6Loopback: Bool {
    let text = (try? String(contentsOfFile: "/proc/net/if_inet6", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").contains { $0.hasPrefix("00000000000000000000000000000001") }
}

/// Interoperation with real Debian `serf` agents over IPv6: every gossip address is `[::1]`, so memberlist's
/// alive messages and push/pull states carry 16-byte addresses both ways. Ports 28246-28260 are this suite's.
@Suite(
    "serf interoperation over IPv6", .serialized,
    .enabled(if: SerfAgent.isInstalled && hasIPv6Loopback, "needs serf and ::1 on lo"))
struct SerfIPv6InteropTests {
    static let loopback = GossipAddress(parsing: "[::1]")!.ip

    static func weftNode(_ name: String, port: Int, delegate: RecordingDelegate) async throws -> GossipNode {
        var logger = Logger(label: "weft.gossip.\(name)")
        logger.logLevel = .warning
        var configuration = GossipConfiguration(name: name, tags: ["role": "weft", "vtep": "fd00:9::1"], logger: logger)
        // serf compresses UDP gossip (memberlist's default); weft refuses it unless told.
        configuration.acceptCompressedPackets = true
        let transport = try await NIOGossipTransport.bind(GossipAddress(ip: loopback, port: UInt16(port)))
        let node = try GossipNode(configuration: configuration, transport: transport, delegate: delegate)
        await node.start()
        return node
    }

    @Test("over [::1]: weft joins serf, serf joins through weft, a serf event reaches weft, weft's leave shows as left",
          .timeLimit(.minutes(1)))
    func joinEventAndLeave() async throws {
        try await withSerfAgents { agents in
            let serfA = try agents.start("serf6-a", port: 28_246, rpcPort: 28_673, tags: ["role": "web"], host: "::1")
            #expect(await SerfInteropTests.waitForRPC(serfA))
            let delegate = RecordingDelegate()
            let node = try await Self.weftNode("weft6-1", port: 28_250, delegate: delegate)
            try await SerfInteropTests.withNode(node) {
                try await Self.check(node, delegate, serfA, agents)
            }
        }
    }

    static func check(
        _ node: GossipNode, _ delegate: RecordingDelegate, _ serfA: SerfAgent, _ agents: SerfAgents
    ) async throws {
        try await node.join([GossipAddress(parsing: serfA.bind)!])
        let seen = await eventually(within: .seconds(10)) { await serfA.member("weft6-1")?.status == "alive" }
        #expect(seen != nil, "serf members: \(serfA.lastMembers)")
        #expect(await serfA.member("weft6-1")?.addr == "[::1]:28250")
        #expect(await serfA.member("weft6-1")?.tags == ["role": "weft", "vtep": "fd00:9::1"])
        let serfSeen = await node.member(named: "serf6-a")
        #expect(serfSeen?.state == .alive && serfSeen?.tags == ["role": "web"])
        #expect(serfSeen?.address == GossipAddress(ip: loopback, port: 28_246))

        // serf-b knows only weft's IPv6 address: it learns serf-a from weft's push/pull state.
        let serfB = try agents.start("serf6-b", port: 28_247, rpcPort: 28_674, join: "[::1]:28250", host: "::1")
        let joined = await eventually(within: .seconds(15)) {
            let weftSeesB = await node.member(named: "serf6-b")?.state == .alive
            let aSeesB = await serfA.member("serf6-b")?.status == "alive"
            let bSees = await serfB.members().filter { $0.status == "alive" }.map(\.name)
            return weftSeesB && aSeesB && bSees.contains("weft6-1") && bSees.contains("serf6-a")
        }
        let weftView = await node.members()
        #expect(joined != nil, "weft: \(weftView), serf-b: \(serfB.lastMembers)")
        #expect(await serfB.member("serf6-a")?.addr == "[::1]:28246")

        try await serfB.sendEvent("deploy6", payload: "v6")
        let event = await eventually(within: .seconds(10)) {
            delegate.messages.contains { $0.first == 3 && String(decoding: $0, as: UTF8.self).contains("deploy6") }
        }
        #expect(event != nil, "weft received: \(delegate.messages.map { $0.first ?? 0 })")

        // A few probe rounds both ways, then neither agent may complain about weft's packets.
        try await Task.sleep(for: .seconds(3))
        let statusOnA = await serfA.member("weft6-1")?.status
        let statusOnB = await serfB.member("weft6-1")?.status
        #expect(statusOnA == "alive" && statusOnB == "alive")
        let problems = (serfA.problems + serfB.problems).filter { !$0.contains("Failed to join") }
        #expect(problems.isEmpty, "serf logged: \(problems)")
        let statistics = await node.statistics
        #expect(statistics.malformedPackets == 0 && statistics.malformedStreams == 0, "\(statistics)")

        await node.leave(timeout: .seconds(5))
        let left = await eventually(within: .seconds(10)) {
            let onA = await serfA.member("weft6-1")?.status
            let onB = await serfB.member("weft6-1")?.status
            return onA == "left" && onB == "left"
        }
        #expect(left != nil, "serf-a: \(serfA.lastMembers), serf-b: \(serfB.lastMembers)")
        if let seen, let joined, let event {
            print("over IPv6: serf saw weft alive after \(seen), serf-b joined through weft in \(joined), event in \(event)")
        }
    }

    @Test("the weft executable: `gossip run --bind [::1]:port --join [::1]:port` joins serf, `gossip members` reads it",
          .timeLimit(.minutes(1)), .enabled(if: Executables.weftIsBuilt, "needs the weft executable (swift build)"))
    func weftProcess() async throws {
        try await withSerfAgents { agents in
            let serf = try agents.start("serf6-p", port: 28_256, rpcPort: 28_683, tags: ["role": "web"], host: "::1")
            #expect(await SerfInteropTests.waitForRPC(serf))
            let weft = try startWeft([
                "gossip", "run", "--name", "weft6-p", "--bind", "[::1]:28260", "--join", serf.bind,
                "--tag", "role=weft",
            ])
            defer {
                weft.killBlocking()
                try? FileManager.default.removeItem(at: weft.logFile)
            }
            let joined = await eventually(within: .seconds(10)) { await serf.member("weft6-p")?.status == "alive" }
            #expect(joined != nil, "serf: \(serf.lastMembers); weft log: \(weft.log())")
            #expect(await serf.member("weft6-p")?.addr == "[::1]:28260")
            let listing = try await weftOutput(["gossip", "members", "--peer", "[::1]:28260"])
            #expect(listing.contains("serf6-p") && listing.contains(":1]:28256"), "\(listing)")
            weft.signal(SIGTERM)
            let left = await eventually(within: .seconds(15)) { await serf.member("weft6-p")?.status == "left" }
            #expect(left != nil, "serf: \(serf.lastMembers)")
        }
    }
}
