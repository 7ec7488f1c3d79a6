import Gossip
import Logging
import Testing
import TestSupport

extension ScaledTimeGossipTests {
    @Suite("Gossip key rotation under traffic")
    struct KeyRotationTests {
        @Test("two nodes rotate from key A to key B while gossiping: no message lost, none undecryptable, A refused after")
        func rotateUnderTraffic() async throws {
            let network = SimulatedNetwork()
            let old: [UInt8] = Array(repeating: 0xa1, count: 32), new: [UInt8] = Array(repeating: 0xb2, count: 32)
            let delegates = [RecordingDelegate(), RecordingDelegate()]
            let nodes = try await NodeBehaviourTests.makeNodes(2, network: network, delegates: delegates) {
                $0.wire.keyring = try? Keyring(keys: [old])
            }
            #expect(await eventually(within: .seconds(10)) { await NodeBehaviourTests.allAlive(nodes) } != nil)
            let sent = 120
            let traffic = Task {
                for index in 0..<sent {
                    await nodes[0].broadcast([0x60, UInt8(index >> 8), UInt8(index & 0xff)], key: "m\(index)")
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
            let pause = Duration.milliseconds(150)  // a few gossip rounds at this scale, between the steps
            try await Task.sleep(for: pause)
            for node in nodes { try await node.installKey(new) }
            try await Task.sleep(for: pause)
            try await nodes[0].useKey(new)
            try await Task.sleep(for: pause)
            try await nodes[1].useKey(new)
            try await Task.sleep(for: pause)
            for node in nodes { try await node.removeKey(old) }
            #expect(await nodes[0].keys == [new])
            #expect(await nodes[1].keys == [new])
            await traffic.value
            let expected = Set((0..<sent).map { [0x60, UInt8($0 >> 8), UInt8($0 & 0xff)] as [UInt8] })
            let delivered = await eventually(within: .seconds(5)) { expected.isSubset(of: Set(delegates[1].messages)) }
            #expect(delivered != nil, "\(expected.subtracting(delegates[1].messages).count) of \(sent) lost")
            for node in nodes {
                let statistics = await node.statistics
                #expect(statistics.malformedPackets == 0, "\(node.name)")
                #expect(statistics.malformedStreams == 0, "\(node.name)")
            }
            #expect(await NodeBehaviourTests.allAlive(nodes))

            // The old key is refused now; the new one is taken.
            let attacker = network.attach(GossipAddress(ip: .v4(IPv4Address(10, 9, 9, 9)), port: 1))
            let withOld = try PacketCodec.encode(
                UserMessage(payload: [0x61]).packetEncoded(), config: WireConfig(keyring: Keyring(keys: [old])))
            let withNew = try PacketCodec.encode(
                UserMessage(payload: [0x62]).packetEncoded(), config: WireConfig(keyring: Keyring(keys: [new])))
            try await attacker.sendPacket(withOld, to: SimulatedCluster.address(1))
            try await attacker.sendPacket(withNew, to: SimulatedCluster.address(1))
            #expect(await eventually(within: .seconds(5)) { delegates[1].messages.contains([0x62]) } != nil)
            #expect(await nodes[1].statistics.malformedPackets == 1)
            #expect(!delegates[1].messages.contains([0x61]))
            for node in nodes { await node.stop() }
            await attacker.shutdown()
        }

        @Test("key errors never show the key")
        func errorsHideKeys() async throws {
            let network = SimulatedNetwork()
            let node = try await NodeBehaviourTests.makeNodes(1, network: network)[0]
            let secret: [UInt8] = [0xde, 0xad, 0xbe, 0xef, 0x42]
            var descriptions: [String] = []
            do { try await node.installKey(secret) } catch { descriptions.append("\(error)") }
            do { try await node.useKey(Array(repeating: 0xde, count: 16)) } catch { descriptions.append("\(error)") }
            do { try await node.removeKey(Array(repeating: 0xde, count: 16)) } catch { descriptions.append("\(error)") }
            #expect(descriptions.count == 3)
            for text in descriptions {
                for fragment in ["222", "173", "190", "239", "dead", "beef", "0xde", "de ad"] {
                    #expect(!text.lowercased().contains(fragment), "\(text)")
                }
            }
            await node.stop()
        }
    }
}
