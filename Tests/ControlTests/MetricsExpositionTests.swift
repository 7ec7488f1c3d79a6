import Control
import CoreMetrics
import DockerPlugin
import Foundation
import Gossip
import Prometheus
import Testing
import TestSupport

/// The exposition of an in-memory cluster's host: the gauges read at each scrape (members by state, endpoints
/// per network, IPAM), what modules record through swift-metrics (a request-duration histogram), and
/// Prometheus's own linter on the text.
@Suite(.serialized)
struct MetricsExpositionTests {
    static let promtoolInstalled = FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool")

    @Test("members by state follow the cluster (2 alive, then 1 alive and 1 failed); remote endpoints per network; promtool accepts the text",
          .enabled(if: promtoolInstalled, "needs promtool (Debian's prometheus package)"))
    func expositionFollowsTheCluster() async throws {
        try await StatusModelTests.withCluster { a, b, network in
            let registry = PrometheusCollectorRegistry()
            let exporter = MetricsExporter(registry: registry, source: a.source)
            let factory = WeftMetricsFactory(registry: registry)
            factory.makeTimer(label: "weft_plugin_request_duration_seconds", dimensions: [("route", "NetworkDriver.Join")])
                .recordNanoseconds(3_000_000)
            factory.makeCounter(label: "weft_plugin_requests_total", dimensions: [("route", "NetworkDriver.Join"), ("outcome", "ok")])
                .increment(by: 1)

            var text = String(decoding: await exporter.exposition(), as: UTF8.self)
            #expect(text.contains(#"weft_gossip_members{state="alive"} 2"#), "\(text)")
            #expect(text.contains(#"weft_gossip_members{state="failed"} 0"#), "\(text)")
            #expect(text.contains(#"weft_network_endpoints{vni="42",location="remote"} 1"#), "\(text)")
            #expect(text.contains("# HELP weft_gossip_members "), "\(text)")
            #expect(text.contains(#"weft_gossip_broadcast_queue{kind="application"} "#), "\(text)")
            var histogram = ""
            let probed = await eventually(within: .seconds(5)) {
                histogram = String(decoding: await exporter.exposition(), as: UTF8.self)
                return Self.value(#"weft_gossip_probe_rtt_seconds_count{peer="b"}"#, in: histogram) ?? 0 > 0
            }
            #expect(probed != nil, "no probe round trip for B in the exposition")
            // Every round trip on the in-memory network is under the top bucket, and the count is the +Inf bucket.
            let count = Self.value(#"weft_gossip_probe_rtt_seconds_count{peer="b"}"#, in: histogram)
            #expect(Self.value(#"weft_gossip_probe_rtt_seconds_bucket{peer="b",le="2.0"}"#, in: histogram) == count, "\(histogram)")
            #expect(Self.value(#"weft_gossip_probe_rtt_seconds_bucket{peer="b",le="+Inf"}"#, in: histogram) == count, "\(histogram)")
            #expect(!histogram.contains("percentile="), "\(histogram)")
            // Probes go out as pings and come back as acks; the wire totals cover at least those messages.
            for series in [
                #"weft_gossip_messages_total{direction="sent",type="ping"}"#,
                #"weft_gossip_messages_total{direction="received",type="ack"}"#,
                #"weft_gossip_message_bytes_total{direction="sent",type="ping"}"#,
                #"weft_gossip_bytes_total{direction="sent",transport="udp"}"#,
                #"weft_gossip_bytes_total{direction="received",transport="udp"}"#,
            ] {
                #expect(Self.value(series, in: histogram) ?? 0 > 0, "\(series)\n\(histogram)")
            }
            let sentPings = Self.value(#"weft_gossip_message_bytes_total{direction="sent",type="ping"}"#, in: histogram) ?? 0
            #expect(Self.value(#"weft_gossip_bytes_total{direction="sent",transport="udp"}"#, in: histogram) ?? 0 >= sentPings)
            #expect(text.contains(#"weft_plugin_request_duration_seconds_bucket{route="NetworkDriver.Join",le="0.005"} 1"#), "\(text)")
            text = String(decoding: await exporter.exposition(), as: UTF8.self)
            let exposition = text
            let lint = try await Command.run(["promtool", "check", "metrics"], input: .text(exposition))
            #expect(lint.succeeded, "promtool: \(lint.stdout) \(lint.stderr)\n\(text)")

            network.setIsolated(b.address, true)
            let failed = await eventually(within: .seconds(15)) {
                String(decoding: await exporter.exposition(), as: UTF8.self).contains(#"weft_gossip_members{state="failed"} 1"#)
            }
            #expect(failed != nil, "B never counted failed")
            #expect(String(decoding: await exporter.exposition(), as: UTF8.self).contains(#"weft_gossip_members{state="alive"} 1"#))
            // B's endpoints leave the tables when the maintenance service handles its failure, just after the
            // member state changes.
            var after = ""
            let withdrawn = await eventually(within: .seconds(5)) {
                after = String(decoding: await exporter.exposition(), as: UTF8.self)
                return after.contains(#"weft_network_endpoints{vni="42",location="remote"} 0"#)
            }
            #expect(withdrawn != nil, "B's endpoint still counted remote after B failed\n\(after)")
        }
    }

    /// The value of the sample `series` (name and labels as exposed) in `text`.
    static func value(_ series: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test("the metrics router serves /metrics in Prometheus's text format and names the path for anything else")
    func router() async throws {
        let registry = PrometheusCollectorRegistry()
        let router = MetricsRouter(exporter: MetricsExporter(registry: registry, source: ControlSocketTests.standaloneSource()))
        let reply = await router.respond(method: "GET", path: "/metrics", body: [])
        #expect(reply.status == 200)
        #expect(reply.mediaType.hasPrefix("text/plain; version=0.0.4"))
        #expect(String(decoding: reply.body, as: UTF8.self).contains("weft_networks 0"))
        let other = await router.respond(method: "GET", path: "/", body: [])
        #expect(other.status == 404)
        #expect(other.error == "weft serves its metrics at /metrics, not /")
    }
}
