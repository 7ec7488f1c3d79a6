import Gossip
import Logging
import Testing
import TestSupport

extension ScaledTimeGossipTests {
    @Suite("NIO gossip transport on 127.0.0.1")
    struct NIOTransportTests {
        static func firstPacket(_ transport: NIOGossipTransport, within limit: Duration) async -> IncomingPacket? {
            await withTaskGroup(of: IncomingPacket?.self) { group in
                group.addTask {
                    for await packet in transport.packets { return packet }
                    return nil
                }
                group.addTask {
                    try? await Task.sleep(for: limit)
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
        }

        @Test("a send that fails (EACCES to a broadcast address) throws, ICMP errors are not fatal, and the socket keeps sending and receiving")
        func sendFailureKeepsSocket() async throws {
            let a = try await NIOGossipTransport.bind(GossipAddress(ip: .v4(IPv4Address(127, 0, 0, 1)), port: 0))
            let b = try await NIOGossipTransport.bind(GossipAddress(ip: .v4(IPv4Address(127, 0, 0, 1)), port: 0))
            let broadcast = GossipAddress(ip: .v4(IPv4Address(255, 255, 255, 255)), port: 9)
            for _ in 0..<3 {
                await #expect(throws: GossipTransportError.self) { try await a.sendPacket([0x08, 1], to: broadcast) }
            }
            // A closed port answers with ICMP port unreachable: not reported on an unconnected socket.
            let closed = try await NIOGossipTransport.bind(GossipAddress(ip: .v4(IPv4Address(127, 0, 0, 1)), port: 0))
            await closed.shutdown()
            for _ in 0..<3 { try await a.sendPacket([0x08, 1], to: closed.localAddress) }
            try await Task.sleep(for: .milliseconds(50))
            #expect(a.isReceiving)
            try await b.sendPacket([0x08, 2], to: a.localAddress)
            #expect(await Self.firstPacket(a, within: .seconds(5))?.bytes == [0x08, 2])
            try await a.sendPacket([0x08, 3], to: b.localAddress)
            #expect(await Self.firstPacket(b, within: .seconds(5))?.bytes == [0x08, 3])
            await a.shutdown()
            await b.shutdown()
            await #expect(throws: GossipTransportError.self) { try await a.sendPacket([0x08, 4], to: b.localAddress) }
        }

        @Test("a node whose sends fail counts them and stays in the cluster")
        func nodeCountsSendFailures() async throws {
            var nodes: [GossipNode] = []
            for index in 0..<2 {
                var config = GossipConfiguration(name: "nio\(index)").scaled(by: 0.3)
                config.logger.logLevel = .critical
                let transport = try await NIOGossipTransport.bind(GossipAddress(ip: .v4(IPv4Address(127, 0, 0, 1)), port: 0))
                let node = try GossipNode(configuration: config, transport: transport)
                await node.start()
                nodes.append(node)
            }
            do {
                try await Self.checkSendFailures(nodes)
            } catch {
                for node in nodes { await node.stop() }
                throw error
            }
            for node in nodes { await node.stop() }
        }

        static func checkSendFailures(_ nodes: [GossipNode]) async throws {
            let seed = try #require(await nodes[0].member(named: "nio0")?.address)
            try await nodes[1].join([seed])
            #expect(await eventually(within: .seconds(10)) { await NodeBehaviourTests.allAlive(nodes) } != nil)
            // A member at a broadcast address: every ping to it fails in sendto.
            let ghost = Alive(
                incarnation: 1, node: "ghost", addr: [255, 255, 255, 255], port: 9, meta: nil, vsn: [1, 5, 2, 2, 5, 5])
            let injector = try await NIOGossipTransport.bind(GossipAddress(ip: .v4(IPv4Address(127, 0, 0, 1)), port: 0))
            try await injector.sendPacket(ghost.encoded(), to: seed)
            await injector.shutdown()
            #expect(await eventually(within: .seconds(10)) { await nodes[0].statistics.failedSends >= 2 } != nil)
            try await Task.sleep(for: .seconds(2))
            #expect(await nodes[0].member(named: "nio1")?.state == .alive)
            #expect(await nodes[1].member(named: "nio0")?.state == .alive)
            let received = await nodes[0].statistics.packetsReceived
            #expect(await eventually(within: .seconds(5)) { await nodes[0].statistics.packetsReceived > received } != nil)
        }
    }
}
