import Foundation
import Gossip
import Logging
import Synchronization

/// `weft-bench gossip`: 50 nodes on loopback (NIO transport, memberlist's LAN timings): join convergence,
/// broadcast spread (p50, p99), failure detection, and bytes per second per node when idle and under churn,
/// each beside what memberlist's formulas give for the same configuration.
struct GossipBenchmark {
    let size: Int

    func run() async throws {
        let meter = TrafficMeter()
        let receipts = Receipts()
        var nodes: [GossipNode] = []
        var addresses: [GossipAddress] = []
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let configuration = GossipConfiguration(name: "x", logger: logger)
        print("gossip: \(size) nodes on 127.0.2.x, LAN timings (probe 1 s, gossip 200 ms × 3, push/pull 30 s scaled)")

        func startNode(_ index: Int) async throws -> GossipNode {
            var config = configuration
            config.name = "bench-\(index)"
            config.tags = ["role": "bench"]
            let address = GossipAddress(ip: .v4(IPv4Address(127, 0, 2, UInt8(index % 250 + 1))), port: UInt16(29_000 + index / 250))
            let inner = try await NIOGossipTransport.bind(address)
            let node = try GossipNode(
                configuration: config, transport: CountingTransport(inner: inner, meter: meter),
                delegate: BenchDelegate(index: index, size: size, receipts: receipts))
            await node.start()
            return node
        }
        for index in 0..<size {
            nodes.append(try await startNode(index))
            addresses.append(GossipAddress(ip: .v4(IPv4Address(127, 0, 2, UInt8(index % 250 + 1))), port: UInt16(29_000 + index / 250)))
        }
        defer { Task { [nodes] in for node in nodes { await node.stop() } } }

        // 1. Join convergence.
        let joinStart = ContinuousClock.now
        try await withThrowingTaskGroup { group in
            for index in 1..<size {
                let node = nodes[index], seed = addresses[0]
                group.addTask { try await node.join([seed]) }
            }
            try await group.waitForAll()
        }
        let converged = await waitUntil(timeout: .seconds(120)) { await Self.aliveEverywhere(nodes) == size * size }
        let rounds = (log(Double(size)) / log(3)).rounded(.up) + 1
        print(String(format: "  join convergence: %@ (gossip alone: ~%.0f rounds × 200 ms = %.1f s; stragglers wait for push/pull, %.0f s at %d nodes)",
                     converged.map { "\(Self.seconds($0)) s" } ?? "not within 120 s", rounds, rounds * 0.2,
                     LifeguardTiming.pushPullInterval(.seconds(30), nodeCount: size).seconds, size))
        _ = joinStart

        // 2. Idle traffic.
        try await Task.sleep(for: .seconds(5))
        let idle = try await measure(meter, for: .seconds(15))
        let idleFormula = Self.idleFormula(size: size)
        print(String(format: "  idle traffic: %.0f B/s per node (formula ≈ %.0f B/s: probes, acks, push/pull; goal < 2048)",
                     idle / Double(size), idleFormula))

        // 3. Broadcast spread.
        let messages = 20
        var sent: [Int: ContinuousClock.Instant] = [:]
        for id in 0..<messages {
            sent[id] = ContinuousClock.now
            await nodes[id % size].broadcast([0xbe, UInt8(id)], key: "bench-\(id)")
            try await Task.sleep(for: .milliseconds(100))
        }
        _ = await waitUntil(timeout: .seconds(30)) { receipts.count >= messages * (size - 1) }
        let latencies = receipts.latencies(sent: sent).sorted()
        if latencies.isEmpty {
            print("  broadcast spread: no receipts")
        } else {
            let p50 = latencies[latencies.count / 2], p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
            print(String(format: "  broadcast spread (%d messages × %d receivers, %d delivered): p50 %.3f s, p99 %.3f s (formula ≈ %.1f s for %.0f rounds)",
                         messages, size - 1, latencies.count, p50, p99, rounds * 0.2, rounds))
        }

        // 4. Churn: a node leaves and a new one joins every 2 s.
        let churnStart = meter.total
        let churnClock = ContinuousClock.now
        var next = size
        for round in 0..<5 {
            let leaving = nodes[size - 1 - round]
            await leaving.leave(timeout: .seconds(2))
            await leaving.stop()
            let fresh = try await startNode(next)
            next += 1
            try await fresh.join([addresses[0]])
            nodes[size - 1 - round] = fresh
            try await Task.sleep(until: churnClock + .seconds(2 * (round + 1)), clock: .continuous)
        }
        let churnBytes = Double(meter.total - churnStart) / (ContinuousClock.now - churnClock).seconds
        print(String(format: "  under churn (1 leave + 1 join every 2 s): %.0f B/s per node", churnBytes / Double(size)))

        // 5. Failure detection: one node stops answering (as if SIGSTOPped).
        try await Task.sleep(for: .seconds(3))
        let victim = nodes[1]
        let victimName = victim.name
        await victim.setResponsive(false)
        let failStart = ContinuousClock.now
        let others = nodes.enumerated().filter { $0.offset != 1 }.map(\.element)
        let detected = await waitUntil(timeout: .seconds(90)) {
            for node in others where await node.member(named: victimName)?.state != .dead { return false }
            return true
        }
        let minimum = LifeguardTiming.suspicionTimeout(multiplier: 4, nodeCount: size, interval: .seconds(1))
        print(String(format: "  failure detection: dead everywhere after %@ (formula: a probe round ≈ 1–2 s, then suspicion %.1f s with 2 confirmations … %.1f s without)",
                     detected.map { "\(Self.seconds($0)) s" } ?? "not within 90 s", minimum.seconds, (minimum * 6).seconds))
        _ = failStart
    }

    private func measure(_ meter: TrafficMeter, for duration: Duration) async throws -> Double {
        let start = meter.total
        let clock = ContinuousClock.now
        try await Task.sleep(for: duration)
        return Double(meter.total - start) / (ContinuousClock.now - clock).seconds
    }

    private func waitUntil(timeout: Duration, _ condition: () async -> Bool) async -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < timeout {
            if await condition() { return ContinuousClock.now - start }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    private static func aliveEverywhere(_ nodes: [GossipNode]) async -> Int {
        var total = 0
        for node in nodes { total += await node.members(includingGone: false).count }
        return total
    }

    /// Per node per second: one probe (ping ≈ 90 B out, ack ≈ 30 B back from the target, who is also pinged
    /// once a second on average) and its share of push/pull: one exchange started and one answered per
    /// interval, each side sending every node state (≈ 110 B each, before compression).
    private static func idleFormula(size: Int) -> Double {
        let probe = 90.0 + 30.0
        let pushPull = 2 * Double(size) * 110 / LifeguardTiming.pushPullInterval(.seconds(30), nodeCount: size).seconds
        return probe + pushPull
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f", duration.seconds)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Counts every byte the nodes send (datagrams and stream writes).
final class TrafficMeter: Sendable {
    private let bytes = Atomic<Int>(0)
    func add(_ count: Int) { bytes.add(count, ordering: .relaxed) }
    var total: Int { bytes.load(ordering: .relaxed) }
}

/// A transport that counts what it sends.
struct CountingTransport: GossipTransport {
    let inner: NIOGossipTransport
    let meter: TrafficMeter
    var localAddress: GossipAddress { inner.localAddress }
    var packets: AsyncStream<IncomingPacket> { inner.packets }
    var streams: AsyncStream<GossipStream> {
        let meter = self.meter
        return AsyncStream { continuation in
            let task = Task {
                for await stream in inner.streams { continuation.yield(Self.counted(stream, meter)) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    func sendPacket(_ bytes: [UInt8], to address: GossipAddress) async throws {
        meter.add(bytes.count)
        try await inner.sendPacket(bytes, to: address)
    }

    func openStream(to address: GossipAddress, timeout: Duration) async throws -> GossipStream {
        Self.counted(try await inner.openStream(to: address, timeout: timeout), meter)
    }

    func shutdown() async { await inner.shutdown() }

    private static func counted(_ stream: GossipStream, _ meter: TrafficMeter) -> GossipStream {
        GossipStream(
            remote: stream.remote, inbound: stream.inbound,
            write: { bytes in
                meter.add(bytes.count)
                try await stream.write(bytes)
            }, close: { stream.close() })
    }
}

/// When each node first received each benchmark message.
final class Receipts: Sendable {
    private let table = Mutex<[Int: [Int: ContinuousClock.Instant]]>([:])

    /// Records a receipt; `true` the first time `node` sees `message`.
    func record(node: Int, message: Int) -> Bool {
        table.withLock { table in
            guard table[message]?[node] == nil else { return false }
            table[message, default: [:]][node] = .now
            return true
        }
    }

    var count: Int { table.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    func latencies(sent: [Int: ContinuousClock.Instant]) -> [Double] {
        table.withLock { table in
            table.flatMap { message, receipts in
                receipts.values.compactMap { received in sent[message].map { (received - $0).seconds } }
            }
        }
    }
}

/// Records benchmark messages and gossips each on the first time it is seen.
struct BenchDelegate: GossipDelegate {
    let index: Int
    let size: Int
    let receipts: Receipts

    func notifyMessage(_ payload: [UInt8]) async -> MessageHandling {
        guard payload.count == 2, payload[0] == 0xbe else { return .done }
        let message = Int(payload[1])
        guard message % size != index else { return .done }  // the sender's own message, echoed back
        return receipts.record(node: index, message: message) ? .rebroadcast(key: "bench-\(message)") : .done
    }
}
