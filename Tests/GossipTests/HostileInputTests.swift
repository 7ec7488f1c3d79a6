@testable import Gossip
import Logging
import MessagePack
import Testing
import TestSupport

extension ScaledTimeGossipTests {
    /// A node facing an outsider who can send any datagram or open any stream: forged membership, huge clocks,
    /// floods. Each test asserts the table, the counters and that the node keeps working.
    @Suite("Gossip under hostile input", .serialized)
    struct HostileInputTests {
        static let attackerAddress = GossipAddress(ip: .v4(IPv4Address(10, 9, 9, 9)), port: 1)

        static func send(_ message: [UInt8], from attacker: SimulatedTransport, to index: Int) async throws {
            try await attacker.sendPacket(message, to: SimulatedCluster.address(index))
        }

        @Test("a node that merged serf Lamport time 2^64-1 leaves without trapping")
        func leaveAfterHugeLamportTime() async throws {
            let network = SimulatedNetwork()
            let nodes = try await NodeBehaviourTests.makeNodes(2, network: network)
            #expect(await eventually(within: .seconds(10)) { await NodeBehaviourTests.allAlive(nodes) } != nil)
            let attacker = network.attach(Self.attackerAddress)
            let intent = SerfIntent.join(lamportTime: .max, node: "x")
            try await Self.send([MessageType.user.rawValue] + intent, from: attacker, to: 0)
            #expect(await eventually(within: .seconds(5)) { await nodes[0].serfClock == .max } != nil)
            await nodes[0].leave(timeout: .seconds(1))
            #expect(await nodes[0].hasLeft)
            #expect(await eventually(within: .seconds(5)) { await nodes[1].member(named: "n0")?.state == .left } != nil)
            for node in nodes { await node.stop() }
            await attacker.shutdown()
        }

        @Test("forged suspect, dead and left at incarnation 2^32-1 are ignored and counted; the victim stays alive")
        func forgedAccusations() async throws {
            let network = SimulatedNetwork()
            let nodes = try await NodeBehaviourTests.makeNodes(3, network: network)
            #expect(await eventually(within: .seconds(10)) { await NodeBehaviourTests.allAlive(nodes) } != nil)
            let attacker = network.attach(Self.attackerAddress)
            let known = try #require(await nodes[0].member(named: "n1")?.incarnation)
            let forged: [[UInt8]] = [
                Suspect(incarnation: .max, node: "n1", from: "n2").encoded(),  // a member, far ahead
                Dead(incarnation: .max, node: "n1", from: "n2").encoded(),
                Dead(incarnation: .max, node: "n1", from: "n1").encoded(),  // a "left" far ahead
                Dead(incarnation: known + 2, node: "n1", from: "n1").encoded(),
                Suspect(incarnation: known, node: "n1", from: "intruder").encoded(),  // not a member
                Dead(incarnation: known, node: "n1", from: "intruder").encoded(),
            ]
            for message in forged {
                try await Self.send(message, from: attacker, to: 0)
                try await Self.send(message, from: attacker, to: 2)
            }
            // In the receiver's own name: it knows it never said so.
            try await Self.send(Suspect(incarnation: known, node: "n1", from: "n0").encoded(), from: attacker, to: 0)
            let refused = await eventually(within: .seconds(5)) {
                let first = await nodes[0].statistics.refusedAccusations
                let third = await nodes[2].statistics.refusedAccusations
                return first == forged.count + 1 && third == forged.count
            }
            #expect(refused != nil)
            // The victim's own state is untouched: nobody accused it at a refutable incarnation.
            #expect(await nodes[1].currentIncarnation == known)
            try await Task.sleep(for: .seconds(1))  // ten probe intervals at this scale
            // A forged accusation believed anywhere would make the victim refute above it (2^32-1, or known + 3).
            // On a loaded machine a real probe can time out at this scale (50 ms), and the victim then refutes
            // that real suspicion: one incarnation per refutation, each caused by a failed probe.
            let refutations = await nodes[1].statistics.refutations
            var failedProbes = 0
            for node in nodes { failedProbes += await node.statistics.failedProbes }
            let incarnation = await nodes[1].currentIncarnation
            #expect(incarnation == known + UInt32(refutations), "n1 at \(incarnation), known \(known), \(refutations) refutations")
            #expect(refutations <= failedProbes, "\(refutations) refutations, \(failedProbes) failed probes")
            for node in nodes {
                let seen = await eventually(within: .seconds(5)) {
                    let member = await node.member(named: "n1")
                    return member?.state == .alive && member?.incarnation == incarnation
                }
                #expect(seen != nil, "\(node.name) does not see n1 alive at \(incarnation)")
            }
            // An accusation against the receiver itself at the largest incarnation is not refuted up to it.
            try await Self.send(Suspect(incarnation: .max, node: "n0", from: "n1").encoded(), from: attacker, to: 0)
            try await Task.sleep(for: .milliseconds(200))
            #expect(await nodes[0].currentIncarnation < 10)
            for node in nodes { await node.stop() }
            await attacker.shutdown()
        }

        @Test("an accusation one incarnation ahead from a member is believed, and the victim refutes it")
        func accusationWithinBoundIsRefuted() async throws {
            let network = SimulatedNetwork()
            let nodes = try await NodeBehaviourTests.makeNodes(3, network: network)
            #expect(await eventually(within: .seconds(10)) { await NodeBehaviourTests.allAlive(nodes) } != nil)
            let attacker = network.attach(Self.attackerAddress)
            let known = try #require(await nodes[0].member(named: "n1")?.incarnation)
            try await Self.send(Suspect(incarnation: known + 1, node: "n1", from: "n2").encoded(), from: attacker, to: 0)
            let refuted = await eventually(within: .seconds(5)) {
                let record = await nodes[0].member(named: "n1")
                return record?.state == .alive && (record?.incarnation ?? 0) >= known + 2
            }
            #expect(refuted != nil)
            #expect(await nodes[1].statistics.refutations >= 1)
            for node in nodes { await node.stop() }
            await attacker.shutdown()
        }

        @Test("an alive about a known node far ahead is refused; a join at any incarnation is taken")
        func aliveBounds() async throws {
            let network = SimulatedNetwork()
            let nodes = try await NodeBehaviourTests.makeNodes(2, network: network)
            #expect(await eventually(within: .seconds(10)) { await NodeBehaviourTests.allAlive(nodes) } != nil)
            let attacker = network.attach(Self.attackerAddress)
            let address = SimulatedCluster.address(1)
            let vsn: [UInt8] = [1, 5, 2, 2, 5, 5]
            let hijack = Alive(
                incarnation: .max, node: "n1", addr: address.ip.bytes, port: address.port, meta: SerfTags.encode(["i": "x"]),
                vsn: vsn)
            try await Self.send(hijack.encoded(), from: attacker, to: 0)
            try await Self.send(hijack.encoded(), from: attacker, to: 1)
            #expect(await eventually(within: .seconds(5)) { await nodes[0].statistics.refusedAlives >= 1 } != nil)
            #expect(await eventually(within: .seconds(5)) { await nodes[1].statistics.refusedAlives >= 1 } != nil)
            #expect(await nodes[0].member(named: "n1")?.tags == ["i": "1"])
            #expect(await nodes[1].currentIncarnation < 10)
            // A node nobody knows joins at whatever incarnation it says.
            let stranger = Alive(
                incarnation: 4_000_000_000, node: "s", addr: [10, 9, 9, 8], port: 7946, meta: nil, vsn: vsn)
            try await Self.send(stranger.encoded(), from: attacker, to: 0)
            #expect(await eventually(within: .seconds(5)) { await nodes[0].member(named: "s") != nil } != nil)
            for node in nodes { await node.stop() }
            await attacker.shutdown()
        }

        @Test("an alive or indirect probe whose address is not 4 or 16 bytes is dropped and counted; a valid one is taken")
        func invalidAddressLengths() async throws {
            let network = SimulatedNetwork()
            let nodes = try await NodeBehaviourTests.makeNodes(1, network: network)
            let attacker = network.attach(Self.attackerAddress)
            let vsn: [UInt8] = [1, 5, 2, 2, 5, 5]
            for bytes in [[], [10, 9, 9], [UInt8](repeating: 1, count: 5), [UInt8](repeating: 1, count: 17)] {
                let alive = Alive(incarnation: 1, node: "bad\(bytes.count)", addr: bytes, port: 7946, meta: nil, vsn: vsn)
                try await Self.send(alive.encoded(), from: attacker, to: 0)
            }
            let probe = IndirectPing(
                seqNo: 1, target: [10, 9], port: 7946, node: "n0", nack: true, sourceAddr: Self.attackerAddress.ip.bytes,
                sourcePort: Self.attackerAddress.port, sourceNode: "x")
            try await Self.send(probe.encoded(), from: attacker, to: 0)
            #expect(await eventually(within: .seconds(5)) { await nodes[0].statistics.invalidAddresses == 5 } != nil)
            let good = Alive(
                incarnation: 1, node: "v6", addr: try #require(IPAddress("fd00::9")).bytes, port: 7946, meta: nil, vsn: vsn)
            try await Self.send(good.encoded(), from: attacker, to: 0)
            #expect(await eventually(within: .seconds(5)) { await nodes[0].member(named: "v6") != nil } != nil)
            #expect(await nodes[0].member(named: "v6")?.address == GossipAddress(ip: .v6(try #require(IPv6Address("fd00::9"))), port: 7946))
            #expect(await nodes[0].member(named: "bad3") == nil)
            for node in nodes { await node.stop() }
            await attacker.shutdown()
        }

        @Test("a push/pull cannot mark a third node left or dead; the node stays alive")
        func pushPullCannotEvict() async throws {
            let network = SimulatedNetwork()
            let nodes = try await NodeBehaviourTests.makeNodes(3, network: network)
            #expect(await eventually(within: .seconds(10)) { await NodeBehaviourTests.allAlive(nodes) } != nil)
            let attacker = network.attach(Self.attackerAddress)
            let victim = try #require(await nodes[0].member(named: "n1"))
            for (state, incarnation) in [(NodeState.left, victim.incarnation), (.dead, UInt32.max), (.left, .max)] {
                let forged = PushPull(join: false, nodes: [
                    PushNodeState(
                        name: "n1", addr: victim.address.ip.bytes, port: victim.address.port, meta: nil,
                        incarnation: incarnation, state: state, vsn: victim.versions),
                ])
                let stream = try await attacker.openStream(to: SimulatedCluster.address(0), timeout: .seconds(1))
                try await stream.write(StreamCodec.encode(.pushPull(forged)))
                _ = try? await readStreamMessage(stream, config: WireConfig(), timeout: .seconds(2))
                stream.close()
            }
            #expect(await eventually(within: .seconds(5)) { await nodes[0].statistics.refusedAccusations >= 2 } != nil)
            try await Task.sleep(for: .seconds(1))
            for node in nodes {
                #expect(await node.member(named: "n1")?.state == .alive, "\(node.name)")
            }
            for node in nodes { await node.stop() }
            await attacker.shutdown()
        }

        @Test("the member table is capped: new nodes replace gone ones, or are refused and counted")
        func memberCap() async throws {
            let network = SimulatedNetwork()
            let nodes = try await NodeBehaviourTests.makeNodes(2, network: network) { $0.maxMembers = 8 }
            #expect(await eventually(within: .seconds(10)) { await NodeBehaviourTests.allAlive(nodes) } != nil)
            let attacker = network.attach(Self.attackerAddress)
            for index in 0..<20 {
                let fake = Alive(
                    incarnation: 1, node: "fake\(index)", addr: [10, 8, 0, UInt8(index)], port: 7946, meta: nil,
                    vsn: [1, 5, 2, 2, 5, 5])
                try await Self.send(fake.encoded(), from: attacker, to: 0)
            }
            #expect(await eventually(within: .seconds(5)) { await nodes[0].statistics.refusedMembers >= 14 } != nil)
            #expect(await nodes[0].members().count <= 8)
            #expect(await nodes[0].member(named: "n1")?.state == .alive)
            for node in nodes { await node.stop() }
            await attacker.shutdown()
        }

        @Test("compressed UDP is refused unless configured; decompression is bounded to a datagram's size")
        func compressedPackets() async throws {
            let network = SimulatedNetwork()
            let strict = try await NodeBehaviourTests.makeNodes(1, network: network)[0]
            let message = UserMessage(payload: Array(repeating: 0x41, count: 200)).packetEncoded()
            let compressed = Compressed.wrap(message)
            #expect(compressed.count < message.count)
            let attacker = network.attach(Self.attackerAddress)
            try await Self.send(compressed, from: attacker, to: 0)
            try await Self.send(try Compound.encode([compressed, message]), from: attacker, to: 0)
            #expect(await eventually(within: .seconds(5)) { await strict.statistics.refusedCompressedPackets == 2 } != nil)
            #expect(await strict.statistics.malformedPackets == 0)

            var config = WireConfig()
            config.acceptCompressedPackets = false
            let refusing = config
            #expect(throws: WireError.compressionRefused) { try PacketCodec.decode(compressed, config: refusing) }
            config.acceptCompressedPackets = true
            #expect(try PacketCodec.decode(compressed, config: config).messages == [.user(UserMessage(payload: Array(repeating: 0x41, count: 200)))])
            let bomb = Compressed.wrap([0x08] + Array(repeating: 0, count: 100_000))
            #expect(bomb.count < 2000)
            #expect(throws: WireError.lzw(.outputTooLarge(limit: 65_536))) { try PacketCodec.decode(bomb, config: config) }
            await strict.stop()
            await attacker.shutdown()
        }

        @Test("the inbound datagram queue is bounded: what does not fit is dropped and counted")
        func inboundQueueBound() async throws {
            let network = SimulatedNetwork()
            let target = GossipAddress(ip: .v4(IPv4Address(10, 7, 0, 1)), port: 7946)
            let transport = network.attach(target, inboundQueueLimit: 8)
            let attacker = network.attach(Self.attackerAddress)
            for _ in 0..<100 { try await attacker.sendPacket([0x08, 1], to: target) }
            #expect(transport.droppedPackets == 92)
            var received = 0
            for await _ in transport.packets {
                received += 1
                if received == 8 { break }
            }
            #expect(received == 8)
            await transport.shutdown()
            await attacker.shutdown()
        }

        @Test("one source may hold only a few streams; a stream that stays silent is closed after its deadline")
        func streamLimits() async throws {
            let network = SimulatedNetwork()
            let node = try await NodeBehaviourTests.makeNodes(1, network: network) {
                $0.maxStreamsPerSource = 4
                $0.streamFirstByteTimeout = .milliseconds(300)
                $0.tcpTimeout = .seconds(5)
            }[0]
            let attacker = network.attach(Self.attackerAddress)
            var streams: [GossipStream] = []
            for _ in 0..<6 { streams.append(try await attacker.openStream(to: SimulatedCluster.address(0), timeout: .seconds(1))) }
            #expect(await eventually(within: .seconds(2)) { await node.statistics.refusedStreamsPerSource == 2 } != nil)
            #expect(await eventually(within: .seconds(3)) { await node.statistics.silentStreams == 4 } != nil)
            // The slots are free again: a real push/pull from the same source is served.
            let stream = try await attacker.openStream(to: SimulatedCluster.address(0), timeout: .seconds(1))
            try await stream.write(StreamCodec.encode(.pushPull(PushPull(join: false, nodes: []))))
            let reply = try await readStreamMessage(stream, config: WireConfig(), timeout: .seconds(2))
            guard case .pushPull(let state) = reply.message else {
                Issue.record("expected a push/pull, got \(reply.message)")
                return
            }
            #expect(state.nodes.map(\.name) == ["n0"])
            for stream in streams { stream.close() }
            stream.close()
            await node.stop()
            await attacker.shutdown()
        }

        @Test("a declared push/pull size over the caps is refused from its header, before the data arrives")
        func pushPullCaps() async throws {
            let network = SimulatedNetwork()
            let node = try await NodeBehaviourTests.makeNodes(1, network: network) { $0.maxMembers = 16 }[0]
            let attacker = network.attach(Self.attackerAddress)
            let headers = [
                PushPullHeader(nodes: 17, userStateLen: 0, join: false),
                PushPullHeader(nodes: 1, userStateLen: 20 << 20 + 1, join: false),
            ]
            for header in headers {
                let stream = try await attacker.openStream(to: SimulatedCluster.address(0), timeout: .seconds(1))
                try await stream.write(header.encoded())
                // The stream stays open: only the header decides.
                _ = try? await readStreamMessage(stream, config: WireConfig(), timeout: .seconds(1))
                stream.close()
            }
            #expect(await eventually(within: .seconds(3)) { await node.statistics.oversizedStreams == 2 } != nil)
            await node.stop()
            await attacker.shutdown()
        }

        @Test("the bytes all inbound streams hold together are bounded")
        func streamMemoryBudget() async throws {
            let network = SimulatedNetwork()
            let node = try await NodeBehaviourTests.makeNodes(1, network: network) {
                $0.maxInboundStreamBytes = 10_000
                $0.tcpTimeout = .seconds(5)
            }[0]
            let attacker = network.attach(Self.attackerAddress)
            // Each declares 8,000 bytes of user state (within the per-stream limit) and sends 4,000 of them.
            let header = PushPullHeader(nodes: 0, userStateLen: 8000, join: false).encoded()
            var streams: [GossipStream] = []
            for _ in 0..<3 {
                let stream = try await attacker.openStream(to: SimulatedCluster.address(0), timeout: .seconds(1))
                try await stream.write(header + Array(repeating: 0, count: 4000))
                streams.append(stream)
            }
            #expect(await eventually(within: .seconds(3)) { await node.statistics.oversizedStreams == 1 } != nil)
            #expect(await node.streamBudget.inUse <= 10_000)
            for stream in streams { stream.close() }
            #expect(await eventually(within: .seconds(3)) { await node.streamBudget.inUse == 0 } != nil)
            await node.stop()
            await attacker.shutdown()
        }

        @Test("indirect probe requests are capped, and every slot is given back")
        func indirectProbeCap() async throws {
            let network = SimulatedNetwork()
            let node = try await NodeBehaviourTests.makeNodes(1, network: network) { $0.maxIndirectProbes = 64 }[0]
            let attacker = network.attach(Self.attackerAddress)
            for sequence in 0..<200 {
                let request = IndirectPing(
                    seqNo: UInt32(sequence), target: [10, 6, 0, 1], port: 7946, node: "nobody", nack: true,
                    sourceAddr: Self.attackerAddress.ip.bytes, sourcePort: Self.attackerAddress.port, sourceNode: "x")
                try await Self.send(request.encoded(), from: attacker, to: 0)
            }
            #expect(await eventually(within: .seconds(3)) { await node.statistics.refusedIndirectProbes == 136 } != nil)
            #expect(await eventually(within: .seconds(3)) { await node.activeIndirectProbes == 0 } != nil)
            await node.stop()
            await attacker.shutdown()
        }

        @Test("an alive far ahead is refused from gossip but taken from the node itself over a push/pull")
        func farAheadFromItself() async throws {
            let network = SimulatedNetwork()
            let nodes = try await NodeBehaviourTests.makeNodes(2, network: network) { $0.pushPullInterval = .seconds(60) }
            #expect(await eventually(within: .seconds(10)) { await NodeBehaviourTests.allAlive(nodes) } != nil)
            // 300 tag updates before a gossip round: only the last alive (300 above) is still queued.
            await nodes[1].setResponsive(false)
            for round in 0..<300 { try await nodes[1].updateTags(["i": "r\(round)"]) }
            await nodes[1].setResponsive(true)
            let current = await nodes[1].currentIncarnation
            #expect(await eventually(within: .seconds(5)) { await nodes[0].statistics.refusedAlives >= 1 } != nil)
            #expect(await nodes[0].member(named: "n1")?.incarnation ?? 0 < current)
            // A push/pull with n1 itself carries its word about itself.
            try await nodes[0].join([SimulatedCluster.address(1)])
            #expect(await nodes[0].member(named: "n1")?.incarnation == current)
            #expect(await nodes[0].member(named: "n1")?.tags == ["i": "r299"])
            for node in nodes { await node.stop() }
        }
    }
}
