import Gossip
import Testing
import TestSupport

extension ScaledTimeGossipTests {
    /// Whole clusters on the in-memory network, with LAN timings scaled down (reported times are scaled back up).
    @Suite("Gossip simulation", .serialized)
    struct SimulationTests {
        @Test("50 nodes joining through one seed converge on 50 alive members", .timeLimit(.minutes(1)))
        func fiftyNodesConverge() async throws {
            let scale = 0.2
            try await withCluster(scale: scale, size: 50) { cluster in
                // Every node joins at once through a random earlier node; time runs from the first join.
                let started = ContinuousClock.now
                try await withThrowingTaskGroup { group in
                    for index in 1..<50 {
                        let seed = cluster.addresses[Int.random(in: 0..<index)]
                        group.addTask { try await cluster.nodes[index].join([seed]) }
                    }
                    try await group.waitForAll()
                }
                // Gossip alone spreads each alive to nearly everyone (≥ 99% of the 2,500 views); the last few entries
                // a terminating epidemic misses are filled in by push/pull anti-entropy (60 s at LAN timings for 50).
                let mostly = await eventually(within: .seconds(30)) {
                    await cluster.aliveCounts().reduce(0, +) >= 50 * 50 - 25
                }
                let took = await eventually(within: .seconds(30)) {
                    await cluster.aliveCounts().allSatisfy { $0 == 50 }
                }
                if let mostly { print("50 nodes: 99% of views complete \(mostly) after the joins (\(mostly / scale) at LAN timings)") }
                let counts = await cluster.aliveCounts()
                #expect(took != nil, "alive counts: \(counts)")
                // memberlist's budget: 1400 bytes of messages, plus the 5-byte CRC and the compound header's uncounted
                // bytes (2 + 2 per part, of which the budget counts 2 per part).
                #expect(cluster.network.largestPacket <= 1400 + 5 + 4, "largest packet \(cluster.network.largestPacket)")
                print("largest packet in the 50-node run: \(cluster.network.largestPacket) bytes")
                if took != nil {
                    let total = ContinuousClock.now - started
                    print("50 nodes converged \(total) after the joins began (\(total / scale) at LAN timings)")
                }
            }
        }

        @Test("a stopped node is declared dead by every other node within the suspicion bound", .timeLimit(.minutes(1)))
        func stoppedNodeDeclaredDead() async throws {
            let scale = 0.1
            let size = 20
            try await withCluster(scale: scale, size: size) { cluster in
                for index in 1..<size { try await cluster.nodes[index].join([cluster.addresses[0]]) }
                #expect(await eventually(within: .seconds(20)) { await cluster.aliveCounts().allSatisfy { $0 == size } } != nil)

                let victim = size - 1
                cluster.network.setIsolated(cluster.addresses[victim], true)
                await cluster.nodes[victim].setResponsive(false)
                // Bound: a probe round to notice (≤ 2 probe intervals), the longest suspicion (no confirmations), and the
                // dead message's spread (a few gossip rounds).
                let config = GossipConfiguration(name: "x").scaled(by: scale)
                let minimum = config.suspicionMinimum(nodeCount: size)
                let bound = config.probeInterval * 3 + minimum * config.suspicionMaxTimeoutMultiplier + config.gossipInterval * 10
                let others = Array(0..<victim)
                let took = await eventually(within: bound) {
                    for index in others where await cluster.nodes[index].member(named: "node-\(victim)")?.state != .dead {
                        return false
                    }
                    return true
                }
                #expect(took != nil, "not dead everywhere within \(bound)")
                #expect(took.map { $0 >= minimum } == true, "dead sooner than the shortest suspicion: \(String(describing: took))")
                if let took {
                    print("stopped node dead everywhere after \(took) (\(took / scale) at LAN timings; bound \(bound / scale), suspicion \(minimum / scale)…\(minimum * 6 / scale))")
                }
            }
        }

        @Test("with 10% packet loss no live node is declared dead over 60 s (at LAN timings)", .timeLimit(.minutes(1)))
        func lossDoesNotKill() async throws {
            let scale = 0.1
            let size = 16
            try await withCluster(scale: scale, size: size) { cluster in
                for index in 1..<size { try await cluster.nodes[index].join([cluster.addresses[0]]) }
                #expect(await eventually(within: .seconds(20)) { await cluster.aliveCounts().allSatisfy { $0 == size } } != nil)

                cluster.network.setLossRate(0.10)
                let watchers = cluster.nodes.map { node in
                    Task { () -> [String] in
                        var deaths: [String] = []
                        for await event in node.events {
                            if case .dead(let member) = event { deaths.append(member.name) }
                        }
                        return deaths
                    }
                }
                try await Task.sleep(for: .seconds(60) * scale)
                cluster.network.setLossRate(0)
                let (delivered, dropped) = cluster.network.packetCounts
                await cluster.stopAll()
                var deaths: [String] = []
                for watcher in watchers { deaths += await watcher.value }
                #expect(deaths.isEmpty, "declared dead: \(deaths)")
                print("loss run: \(delivered) packets delivered, \(dropped) dropped, deaths \(deaths.count)")
            }
        }

        @Test("a partition heals: each side declares the other dead, then all views agree again", .timeLimit(.minutes(1)))
        func partitionHeals() async throws {
            let scale = 0.1
            let size = 10
            try await withCluster(scale: scale, size: size) { cluster in
                try await Self.partitionAndHeal(cluster, scale: scale)
            }
        }

        /// Every node sees every node alive.
        static func viewsAgree(_ cluster: SimulatedCluster) async -> Bool {
            let everyone = cluster.nodes.map(\.name).sorted()
            for node in cluster.nodes where await node.members().filter({ $0.state == .alive }).map(\.name) != everyone {
                return false
            }
            return true
        }

        // Kept in a function of its own: written inline in the closure passed to `withCluster`, the polls here
        // returned at once under Swift 6.3's debug build (the whole test took 56 ms, and adding a print made it
        // behave), which points at the compiler; as a function it behaves. The compiler also crashed (SIL
        // "SendNonSendable" pass) on two similar closures in the serf tests.
        static func partitionAndHeal(_ cluster: SimulatedCluster, scale: Double) async throws {
            let size = cluster.nodes.count
            for index in 1..<size { try await cluster.nodes[index].join([cluster.addresses[0]]) }
            let joined = await eventually(within: .seconds(20)) { await cluster.aliveCounts().allSatisfy { $0 == size } }
            #expect(joined != nil)

            let left = Array(0..<size / 2), right = Array(size / 2..<size)
            cluster.network.partition([left.map { cluster.addresses[$0] }, right.map { cluster.addresses[$0] }])
            let split = await eventually(within: .seconds(20)) {
                await cluster.aliveCounts().allSatisfy { $0 == size / 2 }
            }
            let splitCounts = await cluster.aliveCounts()
            #expect(split != nil, "sides did not separate: \(splitCounts)")
            #expect(split.map { $0 >= cluster.configuration(0).suspicionMinimum(nodeCount: size) } == true)

            cluster.network.partition([])
            // Healed: every node sees all ten alive (stale suspicions from the split may still flap briefly, so
            // this is polled, not sampled once).
            let healed = await eventually(within: .seconds(20)) { await Self.viewsAgree(cluster) }
            let healedCounts = await cluster.aliveCounts()
            #expect(healed != nil, "views after healing: \(healedCounts)")
            if let split, let healed {
                print("partition: sides separated after \(split / scale), healed after \(healed / scale) (LAN timings)")
            }
        }
    }
}
