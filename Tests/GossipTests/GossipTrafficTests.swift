@testable import Gossip
import Logging
import Testing
import TestSupport

/// The node's traffic counters (``GossipCounters/sent``, ``GossipCounters/received``) against the bytes that
/// actually crossed the in-memory network, read by a peer that decodes them itself.
@Suite("Gossip traffic by message type")
struct GossipTrafficTests {
    static let nodeAddress = GossipAddress(ip: .v4(IPv4Address(10, 0, 0, 1)), port: 7946)
    static let peerAddress = GossipAddress(ip: .v4(IPv4Address(10, 0, 0, 2)), port: 7946)

    static func lone(on network: SimulatedNetwork) throws -> GossipNode {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try GossipNode(
            configuration: GossipConfiguration(name: "n0", tags: [:], logger: logger),
            transport: network.attach(nodeAddress))
    }

    @Test("a ping in and its ack out are counted by type with the bytes seen on the wire")
    func datagrams() async throws {
        let network = SimulatedNetwork()
        let node = try Self.lone(on: network)
        await node.start()
        let peer = network.attach(Self.peerAddress)
        let before = await node.statistics
        let ping = Ping(seqNo: 7, node: "n0", sourceAddr: Self.peerAddress.ip.bytes, sourcePort: 7946, sourceNode: "p").encoded()
        try await peer.sendPacket(ping, to: Self.nodeAddress)

        var replies = peer.packets.makeAsyncIterator()
        let reply = try #require(await replies.next())
        let decoded = try PacketCodec.decode(reply.bytes)
        #expect(decoded.messages.contains(.ack(Ack(seqNo: 7))))
        let counted = await eventually(within: .seconds(5)) {
            await node.statistics.sent.datagramBytes > before.sent.datagramBytes
        }
        #expect(counted != nil, "the ack was never counted")
        let after = await node.statistics

        #expect(after.received.messages[.ping, default: 0] - before.received.messages[.ping, default: 0] == 1)
        #expect(after.received.bytes[.ping, default: 0] - before.received.bytes[.ping, default: 0] == ping.count)
        #expect(after.received.datagramBytes - before.received.datagramBytes == ping.count)
        #expect(after.sent.datagramBytes - before.sent.datagramBytes == reply.bytes.count)
        // What the node says it sent is what the peer decoded, layer by layer (the ack, and a compound with the
        // node's own alive piggy-backed when it had one queued).
        for type in MessageType.allCases {
            let layers = decoded.layers.filter { $0.type == type }
            #expect(after.sent.messages[type, default: 0] - before.sent.messages[type, default: 0] == layers.count, "\(type)")
            #expect(
                after.sent.bytes[type, default: 0] - before.sent.bytes[type, default: 0]
                    == layers.reduce(0) { $0 + $1.size }, "\(type)")
        }
        #expect(after.sent.bytes[.ack, default: 0] - before.sent.bytes[.ack, default: 0] == Ack(seqNo: 7).encoded().count)
        await node.stop()
        await peer.shutdown()
    }

    @Test("a push/pull in and out over a compressed, encrypted stream counts the push/pull, compress and encrypt layers")
    func pushPullStream() async throws {
        let network = SimulatedNetwork()
        let node = try Self.lone(on: network)
        let key = [UInt8](repeating: 7, count: 32)
        try await node.installKey(key)
        await node.start()
        let peer = network.attach(Self.peerAddress)
        let wire = WireConfig(keyring: try Keyring(keys: [key]))
        let before = await node.statistics

        let request = PushPull(join: false, nodes: [])
        let (sent, sentLayers) = try StreamCodec.encodeLayered(
            inner: StreamMessage.pushPull(request).encoded(), compress: true, config: wire)
        let stream = try await peer.openStream(to: Self.nodeAddress, timeout: .seconds(5))
        try await stream.write(sent)
        let reply = try await readStreamMessage(stream, config: wire, timeout: .seconds(5))
        stream.close()
        guard case .pushPull(let state) = reply.message else {
            Issue.record("expected a push/pull reply, got \(reply.message)")
            return
        }
        #expect(state.nodes.map(\.name) == ["n0"])
        let counted = await eventually(within: .seconds(5)) { await node.statistics.pushPulls > before.pushPulls }
        #expect(counted != nil, "the push/pull was never counted")
        let after = await node.statistics

        #expect(Set(sentLayers.map(\.type)) == [.pushPull, .compress, .encrypt])
        #expect(Set(reply.layers.map(\.type)) == [.pushPull, .compress, .encrypt])
        for (direction, layers, total) in [
            ("received", sentLayers, after.received), ("sent", reply.layers, after.sent),
        ] {
            let base = direction == "received" ? before.received : before.sent
            for layer in layers {
                #expect(total.messages[layer.type, default: 0] - base.messages[layer.type, default: 0] == 1, "\(direction) \(layer.type)")
                #expect(total.bytes[layer.type, default: 0] - base.bytes[layer.type, default: 0] == layer.size, "\(direction) \(layer.type)")
            }
            #expect(total.streamBytes - base.streamBytes == layers.map(\.size).max(), "\(direction)")
        }
        #expect(after.received.streamBytes - before.received.streamBytes == sent.count)
        await node.stop()
        await peer.shutdown()
    }
}
