import Foundation
import TestSupport
import Testing

/// `weft status` and the metrics from live daemons on three hosts: h1 sees h2 and h3 alive with round trips and
/// measures the convergence lag of a container on h2; once h3 is cut off from the underlay, h1's status names it
/// failed with its reason, h1's metrics count it and `weft events` on h1 prints it as it happens.
@Suite(
    "End to end: weft status and metrics across three hosts",
    .serialized,
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(4))
)
struct ObservabilityTests {
    struct Peer: Decodable {
        let name: String
        let state: String
        let reason: String?
        let isSelf: Bool
        let rttP50Ms: Double?
        let rttP99Ms: Double?
    }

    static func peers(on host: TestHost) async throws -> [Peer] {
        let result = try await host.run([PackagePaths.weftBinary, "status", "peers", "--json"]).check()
        return try JSONDecoder().decode([Peer].self, from: Data(result.stdout.utf8))
    }

    static func metrics(on host: TestHost) async throws -> String {
        try await host.run(["curl", "-sS", "--max-time", "3", "http://127.0.0.1:9479/metrics"]).check().stdout
    }

    @Test("weft status peers on h1 lists h2 and h3 alive; after h3 is cut off, h1 names it failed (status, health, metrics)")
    func statusSeesAFailure() async throws {
        try await Cluster.with(hosts: 3, beforeDockerd: OverlayFailureTests.startJoinedWeft) { cluster in
            let (h1, h2, h3) = (cluster["h1"], cluster["h2"], cluster["h3"])
            try await Poll.until("h1 to see h2 and h3 alive, with round trips", timeout: .seconds(30), interval: .milliseconds(200)) {
                let peers = try await Self.peers(on: h1)
                return [h2, h3].allSatisfy { host in
                    peers.contains { $0.name == host.underlayAddress && $0.state == "alive" && $0.rttP50Ms != nil }
                }
            }
            let rtts = try await Self.peers(on: h1).filter { !$0.isSelf }.map { "\($0.name) p50 \($0.rttP50Ms ?? -1) ms p99 \($0.rttP99Ms ?? -1) ms" }
            print("e2e status: h1's probe round trips: \(rtts.joined(separator: ", "))")
            // A container on h2 reaches h1's kernel: its convergence lag is measured there.
            try await OverlayFailureTests.network(on: cluster.hosts, subnet: "10.63.0.0/24")
            _ = try await OverlayContainer.start(on: h2, name: "c2", network: "net1", address: "10.63.0.21")
            try await Poll.until("h1 to program c2 and measure its convergence lag", timeout: .seconds(30), interval: .milliseconds(200)) {
                let metrics = try await Self.metrics(on: h1)
                return metrics.contains(#"weft_network_endpoints{vni=""#) && metrics.contains("weft_convergence_lag_seconds_count 1")
            }
            let alive = try await Self.metrics(on: h1)
            if let lag = alive.split(separator: "\n").first(where: { $0.hasPrefix("weft_convergence_lag_seconds_sum") }) {
                print("e2e status: h1's convergence lag for c2: \(lag)")
            }
            #expect(alive.contains(#"weft_gossip_members{state="alive"} 3"#), "\(alive)")
            let text = try await h1.run([PackagePaths.weftBinary, "status"]).check().stdout
            #expect(text.contains("gossip:     3 alive, 0 suspect, 0 failed") && text.contains("health:     ok"), "\(text)")

            // `weft events` follows h1's journal from now on: h3's failure must reach it as it happens.
            let events = try h1.spawn("events", [PackagePaths.weftBinary, "events"])
            let clock = ContinuousClock()
            let cutAt = clock.now
            try await cluster.cutOff(h3)
            try await Poll.until("h1 to name h3 failed", timeout: OverlayFailureTests.failureBound + .seconds(15), interval: .milliseconds(200)) {
                try await Self.peers(on: h1).contains { $0.name == h3.underlayAddress && $0.state == "failed" }
            }
            let namedAt = clock.now
            print("e2e status: h1 named h3 failed \(namedAt - cutAt) after the cut")
            let deadLine = #""detail":"dead ("#
            try await Poll.until("weft events on h1 to print h3's failure", timeout: .seconds(5), interval: .milliseconds(50)) {
                events.log().split(separator: "\n").contains { $0.contains(deadLine) && $0.contains(#""subject":"\#(h3.underlayAddress)""#) }
            }
            print("e2e status: weft events printed h3's failure \(clock.now - namedAt) after weft status named it")
            for line in events.log().split(separator: "\n") where !line.isEmpty {
                #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "not a JSON line: \(line)")
            }
            let peer = try #require(try await Self.peers(on: h1).first { $0.name == h3.underlayAddress })
            #expect(peer.reason?.contains("no answer to direct or indirect probes") == true, "\(peer)")
            #expect(try await Self.peers(on: h1).first { $0.name == h2.underlayAddress }?.state == "alive")
            let status = try await h1.run([PackagePaths.weftBinary, "status"]).check().stdout
            #expect(status.contains("peer \(h3.underlayAddress) (\(h3.underlayAddress):7946) unreachable for "), "\(status)")
            let failed = try await Self.metrics(on: h1)
            #expect(failed.contains(#"weft_gossip_members{state="failed"} 1"#), "\(failed)")
            #expect(failed.contains(#"weft_gossip_members{state="alive"} 2"#), "\(failed)")
            #expect(failed.contains(#"weft_gossip_membership_events_total{event="dead"}"#), "\(failed)")
        }
    }
}
