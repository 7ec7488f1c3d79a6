import Foundation
import Gossip
import Logging
import Testing
import TestSupport

/// Interoperation with real Debian `serf` 0.9.4 agents (memberlist 0.2.2) on loopback. Each test uses its own
/// ports on 127.0.0.1 (serf) and 127.0.0.2 (weft), polls with a bound, and kills its agents on every path.
@Suite("serf interoperation", .serialized, .enabled(if: SerfAgent.isInstalled, "needs Debian's serf (make deps)"))
struct SerfInteropTests {
    static func weftNode(
        _ name: String, port: Int, tags: [String: String] = ["role": "weft"], keys: [[UInt8]]? = nil,
        configure: (inout GossipConfiguration) -> Void = { _ in }
    ) async throws -> GossipNode {
        var logger = Logger(label: "weft.gossip.\(name)")
        logger.logLevel = .warning
        var configuration = GossipConfiguration(name: name, tags: tags, logger: logger)
        // serf compresses UDP gossip (memberlist's default); weft refuses it unless told.
        configuration.acceptCompressedPackets = true
        if let keys { configuration.wire.keyring = try Keyring(keys: keys) }
        configure(&configuration)
        let transport = try await NIOGossipTransport.bind(GossipAddress(ip: .v4(IPv4Address(127, 0, 0, 2)), port: UInt16(port)))
        let node = try GossipNode(configuration: configuration, transport: transport)
        await node.start()
        return node
    }

    /// Runs `body` with a started node and always stops it.
    static func withNode<R>(_ node: GossipNode, _ body: () async throws -> R) async throws -> R {
        do {
            let result = try await body()
            await node.stop()
            return result
        } catch {
            await node.stop()
            throw error
        }
    }

    static func waitForRPC(_ agent: SerfAgent) async -> Bool {
        await eventually(within: .seconds(10), every: .milliseconds(100)) { await !agent.members().isEmpty } != nil
    }

    @Test("weft joins serf and serf joins weft; each lists the other alive with its tags", .timeLimit(.minutes(1)))
    func joinBothWays() async throws {
        try await withSerfAgents { agents in
            let serfA = try agents.start("serf-a", port: 27_946, rpcPort: 27_373, tags: ["role": "web"])
            #expect(await Self.waitForRPC(serfA))
            let node = try await Self.weftNode("weft-1", port: 27_950, tags: ["role": "weft", "vtep": "10.9.0.1"])
            try await Self.withNode(node) {
                try await node.join([GossipAddress(parsing: serfA.bind)!])
                let seen = await eventually(within: .seconds(10)) {
                    await serfA.member("weft-1")?.status == "alive"
                }
                #expect(seen != nil, "serf members: \(serfA.lastMembers)")
                #expect(await serfA.member("weft-1")?.tags == ["role": "weft", "vtep": "10.9.0.1"])
                #expect(await serfA.member("weft-1")?.addr == "127.0.0.2:27950")
                #expect(await node.member(named: "serf-a")?.state == .alive)
                #expect(await node.member(named: "serf-a")?.tags == ["role": "web"])

                let serfB = try agents.start("serf-b", port: 27_947, rpcPort: 27_374, join: "127.0.0.2:27950")
                let joined = await eventually(within: .seconds(15)) {
                    let b = await node.member(named: "serf-b")?.state
                    let aSeesB = await serfA.member("serf-b")?.status == "alive"
                    let bSeesWeft = await serfB.member("weft-1")?.status == "alive"
                    return b == .alive && aSeesB && bSeesWeft
                }
                let weftView = await node.members()
                #expect(joined != nil, "weft: \(weftView), serf-b: \(serfB.lastMembers)")
                if let seen, let joined { print("serf saw weft alive after \(seen); serf-b joined through weft in \(joined)") }
                // A few probe rounds both ways, then nothing in serf's logs may complain about weft's packets.
                try await Task.sleep(for: .seconds(4))
                #expect(await serfA.member("weft-1")?.status == "alive")
                let problems = (serfA.problems + serfB.problems).filter { !$0.contains("Failed to join") }
                #expect(problems.isEmpty, "serf logged: \(problems)")
                print("serf-a log lines about weft-1: \(serfA.log.split(separator: "\n").filter { $0.contains("weft-1") })")
            }
        }
    }

    @Test("an unresponsive weft node is marked failed by serf, then refutes and is alive again", .timeLimit(.minutes(2)))
    func failAndRefute() async throws {
        try await withSerfAgents { agents in
            let serfA = try agents.start("serf-a", port: 27_956, rpcPort: 27_383)
            #expect(await Self.waitForRPC(serfA))
            _ = try agents.start("serf-b", port: 27_957, rpcPort: 27_384, join: serfA.bind)
            let node = try await Self.weftNode("weft-2", port: 27_960) { $0.pushPullInterval = .seconds(5) }
            try await Self.withNode(node) {
                try await node.join([GossipAddress(parsing: serfA.bind)!])
                #expect(await eventually(within: .seconds(10)) { await serfA.member("weft-2")?.status == "alive" } != nil)
                #expect(await eventually(within: .seconds(10)) { await node.members(includingGone: false).count == 3 } != nil)
                let before = await node.currentIncarnation

                await node.setResponsive(false)
                let failed = await eventually(within: .seconds(30)) { await serfA.member("weft-2")?.status == "failed" }
                #expect(failed != nil, "serf members: \(serfA.lastMembers)")

                await node.setResponsive(true)
                let back = await eventually(within: .seconds(40)) { await serfA.member("weft-2")?.status == "alive" }
                #expect(back != nil, "serf members: \(serfA.lastMembers)")
                let after = await node.currentIncarnation
                #expect(after > before)
                if let failed, let back {
                    print("serf marked weft failed after \(failed), alive again \(back) after resuming (incarnation \(before) → \(after))")
                }
                #expect(serfA.log.contains("Suspect weft-2 has failed") || serfA.log.contains("weft-2"))
            }
        }
    }

    @Test("a graceful leave shows as left in serf, not failed", .timeLimit(.minutes(1)))
    func gracefulLeave() async throws {
        try await withSerfAgents { agents in
            let serfA = try agents.start("serf-a", port: 27_966, rpcPort: 27_393)
            #expect(await Self.waitForRPC(serfA))
            let node = try await Self.weftNode("weft-3", port: 27_970)
            try await Self.withNode(node) { try await Self.leaveAndCheck(node, serfA) }
        }
    }

    static func leaveAndCheck(_ node: GossipNode, _ serfA: SerfAgent) async throws {
        try await node.join([GossipAddress(parsing: serfA.bind)!])
        #expect(await eventually(within: .seconds(10)) { await serfA.member("weft-3")?.status == "alive" } != nil)
        let started = ContinuousClock.now
        await node.leave(timeout: .seconds(5))
        let leaveTook = ContinuousClock.now - started
        let left = await eventually(within: .seconds(10)) { await serfA.member("weft-3")?.status == "left" }
        #expect(left != nil, "serf members: \(serfA.lastMembers); leave took \(leaveTook)")
        print("leave took \(leaveTook); serf showed left \(left.map { "\($0)" } ?? "never") later")
    }

    @Test("an encrypted cluster: the same key joins, a wrong key and plaintext are refused", .timeLimit(.minutes(1)))
    func encryption() async throws {
        let key: [UInt8] = (0..<16).map { UInt8($0 * 7 + 3) }
        let wrong: [UInt8] = Array(repeating: 0x42, count: 16)
        try await withSerfAgents { agents in
            let serfA = try agents.start(
                "serf-a", port: 27_976, rpcPort: 27_403, encrypt: Data(key).base64EncodedString())
            #expect(await Self.waitForRPC(serfA))
            let good = try await Self.weftNode("weft-4", port: 27_980, keys: [key])
            try await Self.withNode(good) {
                try await good.join([GossipAddress(parsing: serfA.bind)!])
                #expect(await eventually(within: .seconds(10)) { await serfA.member("weft-4")?.status == "alive" } != nil)

                let bad = try await Self.weftNode("weft-5", port: 27_981, keys: [wrong]) { $0.joinAttempts = 1 }
                await #expect(throws: GossipError.self) {
                    try await Self.withNode(bad) { try await bad.join([GossipAddress(parsing: serfA.bind)!]) }
                }
                let plain = try await Self.weftNode("weft-6", port: 27_982) { $0.joinAttempts = 1 }
                await #expect(throws: GossipError.self) {
                    try await Self.withNode(plain) { try await plain.join([GossipAddress(parsing: serfA.bind)!]) }
                }
                let listed = await serfA.members().map(\.name)
                #expect(!listed.contains("weft-5") && !listed.contains("weft-6"), "serf: \(listed)")
                let decryptErrors = serfA.problems.filter { $0.contains("ecrypt") || $0.contains("encrypt") }
                #expect(!decryptErrors.isEmpty)
                print("serf on the refused joins: \(decryptErrors)")
                // The keyed weft node drops plaintext too.
                let before = await good.statistics.malformedPackets
                let probe = try await NIOGossipTransport.bind(GossipAddress(ip: .v4(IPv4Address(127, 0, 0, 2)), port: 27_983))
                try await probe.sendPacket(Ping(seqNo: 1, node: "weft-4").encoded(), to: GossipAddress(ip: .v4(IPv4Address(127, 0, 0, 2)), port: 27_980))
                #expect(await eventually(within: .seconds(5)) { await good.statistics.malformedPackets > before } != nil)
                await probe.shutdown()
            }
        }
    }

    @Test("a weft node restarted at incarnation 1 comes back alive in serf: after a leave, and with new tags",
          .timeLimit(.minutes(1)))
    func restart() async throws {
        try await withSerfAgents { agents in
            let serfA = try agents.start("serf-a", port: 27_986, rpcPort: 27_413)
            #expect(await Self.waitForRPC(serfA))
            try await Self.restartAndCheck(serfA)
        }
    }

    static func restartAndCheck(_ serfA: SerfAgent) async throws {
        let seed = GossipAddress(parsing: serfA.bind)!
        let first = try await weftNode("weft-7", port: 27_990, tags: ["role": "weft", "generation": "1"])
        try await withNode(first) {
            try await first.join([seed])
            #expect(await eventually(within: .seconds(10)) { await serfA.member("weft-7")?.status == "alive" } != nil)
            await first.leave(timeout: .seconds(5))
        }
        #expect(await eventually(within: .seconds(10)) { await serfA.member("weft-7")?.status == "left" } != nil)

        // Same name and address, incarnation 1 again: the join reply says "left at 1", so it refutes above that.
        let second = try await weftNode("weft-7", port: 27_990, tags: ["role": "weft", "generation": "2"])
        try await withNode(second) {
            #expect(await second.currentIncarnation == 1)
            try await second.join([seed])
            let back = await eventually(within: .seconds(10)) {
                let row = await serfA.member("weft-7")
                return row?.status == "alive" && row?.tags["generation"] == "2"
            }
            #expect(back != nil, "serf: \(serfA.lastMembers)")
            #expect(await second.currentIncarnation > 1)
        }
        // Killed without a leave and restarted at once with other tags: serf shows the new tags (member-update).
        let third = try await weftNode("weft-7", port: 27_990, tags: ["role": "weft", "generation": "3"])
        try await withNode(third) {
            try await third.join([seed])
            let updated = await eventually(within: .seconds(10)) {
                let row = await serfA.member("weft-7")
                return row?.status == "alive" && row?.tags["generation"] == "3"
            }
            #expect(updated != nil, "serf: \(serfA.lastMembers)")
        }
        #expect(serfA.log.contains("EventMemberUpdate: weft-7") || serfA.log.contains("EventMemberJoin: weft-7"))
    }
}
