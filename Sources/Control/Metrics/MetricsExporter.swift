import DockerPlugin
import Gossip
import Overlay
import Prometheus

/// The Prometheus exposition: what the modules recorded through swift-metrics (requests, events, passes,
/// errors), plus the gauges read from the daemon at each scrape (members by state, endpoints per network,
/// IPAM) and the gossip node's own counters.
public actor MetricsExporter {
    public let registry: PrometheusCollectorRegistry
    let source: StatusSource
    /// The gossip counters at the previous scrape, so each scrape adds what happened since.
    private var lastGossip = GossipCounters()
    private var lastDroppedBroadcasts = 0
    /// Per-network gauges, so a network that goes takes its series with it.
    private var networkGauges: [UInt32: [Gauge]] = [:]
    private var poolGauges: [String: [Gauge]] = [:]
    /// Per peer: its probe loss gauge, its round-trip histogram and the answered probes it has seen.
    private var peerProbes: [String: PeerProbeSeries] = [:]

    public init(registry: PrometheusCollectorRegistry, source: StatusSource) {
        self.registry = registry
        self.source = source
    }

    /// The text exposition format, read fresh.
    public func exposition() async -> [UInt8] {
        await update()
        return registry.emitToBuffer()
    }

    func update() async {
        let status = await source.status()
        let peers = await source.peers()
        for state in ["alive", "suspect", "failed", "left"] {
            gauge("weft_gossip_members", [("state", state)]).set(Double(peers.count { $0.state == state }))
        }
        await updateProbes()
        gauge("weft_uptime_seconds").set(Double(status.uptimeSeconds))
        if let gossip = status.gossip {
            gauge("weft_gossip_keys").set(Double(gossip.keys))
            gauge("weft_cluster_synchronized").set(gossip.synchronized ? 1.0 : 0.0)
        }
        if let node = source.node {
            let counters = await node.statistics
            counter("weft_gossip_failed_probes_total").increment(by: Int64(max(0, counters.failedProbes - lastGossip.failedProbes)))
            counter("weft_gossip_push_pulls_total").increment(by: Int64(max(0, counters.pushPulls - lastGossip.pushPulls)))
            counter("weft_gossip_packets_total", [("direction", "sent")])
                .increment(by: Int64(max(0, counters.packetsSent - lastGossip.packetsSent)))
            counter("weft_gossip_packets_total", [("direction", "received")])
                .increment(by: Int64(max(0, counters.packetsReceived - lastGossip.packetsReceived)))
            countTraffic(counters.sent, since: lastGossip.sent, direction: "sent")
            countTraffic(counters.received, since: lastGossip.received, direction: "received")
            lastGossip = counters
            let queued = await node.queuedBroadcasts
            gauge("weft_gossip_broadcast_queue", [("kind", "membership")]).set(Double(queued.membership))
            gauge("weft_gossip_broadcast_queue", [("kind", "application")]).set(Double(queued.application))
            counter("weft_gossip_dropped_broadcasts_total")
                .increment(by: Int64(max(0, counters.droppedBroadcasts - lastDroppedBroadcasts)))
            lastDroppedBroadcasts = counters.droppedBroadcasts
        }

        let networks = await source.networks()
        gauge("weft_networks").set(Double(networks.count))
        var seenNetworks: Set<UInt32> = []
        for network in networks {
            seenNetworks.insert(network.vni)
            let vni = "\(network.vni)"
            let local = gauge("weft_network_endpoints", [("vni", vni), ("location", "local")])
            let remote = gauge("weft_network_endpoints", [("vni", vni), ("location", "remote")])
            local.set(Double(network.localEndpoints.count))
            remote.set(Double(network.remoteEndpoints.count))
            networkGauges[network.vni] = [local, remote]
        }
        for (vni, gauges) in networkGauges where !seenNetworks.contains(vni) {
            for gauge in gauges { registry.unregisterGauge(gauge) }
            networkGauges[vni] = nil
        }

        var seenPools: Set<String> = []
        for pool in status.ipam {
            seenPools.insert(pool.subnet)
            var gauges = [
                gauge("weft_ipam_addresses", [("pool", pool.subnet), ("state", "in_use")]),
                gauge("weft_ipam_addresses", [("pool", pool.subnet), ("state", "free")]),
            ]
            gauges[0].set(Double(pool.inUse))
            gauges[1].set(Double(pool.free))
            if let owned = pool.blocksOwned {
                let ownedGauge = gauge("weft_ipam_blocks_owned", [("pool", pool.subnet)])
                ownedGauge.set(Double(owned))
                let unreachable = gauge("weft_ipam_blocks_unreachable", [("pool", pool.subnet)])
                unreachable.set(Double(pool.blocksHeldByUnreachable ?? 0))
                gauges += [ownedGauge, unreachable]
            }
            poolGauges[pool.subnet] = gauges
        }
        for (subnet, gauges) in poolGauges where !seenPools.contains(subnet) {
            for gauge in gauges { registry.unregisterGauge(gauge) }
            poolGauges[subnet] = nil
        }
    }

    /// Records the probe round trips answered since the previous scrape in each peer's histogram (the node keeps
    /// the newest ``ProbeStatistics/window``: a peer probed more often than that between two scrapes loses the
    /// oldest, never at weft's one probe a second and a scrape every 15 s), and sets its loss ratio.
    private func updateProbes() async {
        guard let node = source.node else { return }
        var seen: Set<String> = []
        for status in await node.memberStatuses() where status.member.name != node.name {
            guard let probes = status.probes else { continue }
            let name = status.member.name
            seen.insert(name)
            var series = peerProbes[name] ?? PeerProbeSeries(
                loss: gauge("weft_gossip_probe_loss_ratio", [("peer", name)]),
                roundTrips: registry.makeDurationHistogram(
                    descriptor: MetricCatalog.descriptor("weft_gossip_probe_rtt_seconds"), labels: [("peer", name)],
                    buckets: MetricCatalog.roundTripBuckets))
            // A count below the last seen: the member was forgotten and probed afresh.
            let fresh = probes.answeredCount >= series.answered
                ? probes.answeredCount - series.answered : probes.answeredCount
            for roundTrip in probes.roundTrips.suffix(fresh) { series.roundTrips.record(roundTrip) }
            series.answered = probes.answeredCount
            series.loss.set(probes.loss)
            peerProbes[name] = series
        }
        for (name, series) in peerProbes where !seen.contains(name) {
            registry.unregisterGauge(series.loss)
            registry.unregisterDurationHistogram(series.roundTrips)
            peerProbes[name] = nil
        }
    }

    /// Adds the gossip traffic of one direction since the previous scrape: messages and bytes by type (a series
    /// appears with the first message of its type), bytes on the wire by transport.
    private func countTraffic(_ now: MessageTraffic, since last: MessageTraffic, direction: String) {
        for type in MessageType.allCases {
            guard let messages = now.messages[type] else { continue }
            let labels = [("direction", direction), ("type", Self.label(type))]
            counter("weft_gossip_messages_total", labels)
                .increment(by: Int64(max(0, messages - last.messages[type, default: 0])))
            counter("weft_gossip_message_bytes_total", labels)
                .increment(by: Int64(max(0, now.bytes[type, default: 0] - last.bytes[type, default: 0])))
        }
        counter("weft_gossip_bytes_total", [("direction", direction), ("transport", "udp")])
            .increment(by: Int64(max(0, now.datagramBytes - last.datagramBytes)))
        counter("weft_gossip_bytes_total", [("direction", direction), ("transport", "tcp")])
            .increment(by: Int64(max(0, now.streamBytes - last.streamBytes)))
    }

    /// A message type as a Prometheus label value.
    static func label(_ type: MessageType) -> String {
        switch type {
        case .ping: "ping"
        case .indirectPing: "indirect_ping"
        case .ack: "ack"
        case .suspect: "suspect"
        case .alive: "alive"
        case .dead: "dead"
        case .pushPull: "push_pull"
        case .compound: "compound"
        case .user: "user"
        case .compress: "compress"
        case .encrypt: "encrypt"
        case .nack: "nack"
        case .hasCRC: "crc"
        case .error: "error"
        case .hasLabel: "label"
        }
    }

    private func gauge(_ name: String, _ labels: [(String, String)] = []) -> Gauge {
        labels.isEmpty
            ? registry.makeGauge(descriptor: MetricCatalog.descriptor(name))
            : registry.makeGauge(descriptor: MetricCatalog.descriptor(name), labels: labels)
    }

    private func counter(_ name: String, _ labels: [(String, String)] = []) -> Counter {
        labels.isEmpty
            ? registry.makeCounter(descriptor: MetricCatalog.descriptor(name))
            : registry.makeCounter(descriptor: MetricCatalog.descriptor(name), labels: labels)
    }
}

/// `GET /metrics` on the metrics listener: the exposition; anything else a 404 that says where to look.
public struct MetricsRouter: HTTPResponder {
    public let exporter: MetricsExporter

    public init(exporter: MetricsExporter) {
        self.exporter = exporter
    }

    public func respond(method: String, path: String, body: [UInt8]) async -> PluginResponse {
        let target = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        guard target == "/metrics" else {
            return .failure(status: 404, endpoint: nil, message: "weft serves its metrics at /metrics, not \(target)")
        }
        guard method == "GET" || method == "HEAD" else {
            return .failure(status: 405, endpoint: nil, message: "/metrics accepts only GET, not \(method)")
        }
        var response = PluginResponse(status: 200, body: await exporter.exposition(), endpoint: nil)
        response.mediaType = "text/plain; version=0.0.4; charset=utf-8"
        return response
    }
}

/// One peer's probe series in the exposition.
private struct PeerProbeSeries {
    let loss: Gauge
    let roundTrips: DurationHistogram
    /// ``ProbeStatistics/answeredCount`` at the previous scrape.
    var answered = 0
}
