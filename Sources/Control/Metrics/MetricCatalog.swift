import Prometheus

/// weft's metrics by name, with the help text Prometheus shows for each: one place, so that every module that
/// records one (through swift-metrics) and the exposition agree.
public enum MetricCatalog {
    public static let help: [String: String] = [
        "weft_gossip_members": "Gossip members as this host sees them, by state (alive, suspect, failed, left), itself included.",
        "weft_gossip_membership_events_total": "Membership changes this host learned, by event (join, update, suspect, dead, left).",
        "weft_gossip_failed_probes_total": "Probes of other members that got no answer (the member became suspect).",
        "weft_gossip_push_pulls_total": "Full state exchanges (push/pull) completed with other members.",
        "weft_gossip_packets_total": "Gossip datagrams, by direction (sent, received).",
        "weft_gossip_messages_total": "Gossip messages by direction and memberlist type (ping, ack, alive, push_pull, compound, compress, encrypt, user, ...); wrappers and their parts each count.",
        "weft_gossip_message_bytes_total": "Bytes of gossip messages by direction and type, each with its header; a wrapper (compound, compress, crc, encrypt, label) counts what it wraps, so types overlap.",
        "weft_gossip_bytes_total": "Gossip bytes on the wire by direction and transport (udp: datagrams, tcp: stream messages such as push/pull).",
        "weft_gossip_probe_rtt_seconds": "Round trip of this host's answered gossip probes of a peer (direct or indirect), 0.1 ms to 2 s.",
        "weft_gossip_probe_loss_ratio": "Unanswered gossip probes of a peer over all probes of it.",
        "weft_gossip_broadcast_queue": "Messages waiting to be gossiped, by kind (membership: alive/suspect/dead; application: cluster records).",
        "weft_gossip_dropped_broadcasts_total": "Application broadcasts dropped from a full queue before being fully gossiped.",
        "weft_convergence_lag_seconds": "Time from a remote endpoint's write by its owner (its version clock, wall-clock milliseconds) to its FDB entry here.",
        "weft_gossip_keys": "Gossip encryption keys installed (0: the gossip is in plaintext).",
        "weft_cluster_synchronized": "1 once this host has received the cluster's tables (or waited long enough to be alone).",
        "weft_plugin_requests_total": "Docker plugin API requests, by route and outcome (ok, failed).",
        "weft_plugin_request_duration_seconds": "Time to answer a Docker plugin API request, by route.",
        "weft_reconcile_passes_total": "Passes over a network's remote FDB and neighbour entries, by pass (change, repair).",
        "weft_reconcile_corrections_total": "Remote FDB and neighbour entries corrected, by kind (written, removed).",
        "weft_kernel_operation_errors_total": "Kernel (netlink) operations that failed, by operation (remote_entry: one FDB or neighbour write; remote_pass: a whole pass that could not read or open the network).",
        "weft_network_endpoints": "Endpoints of a network, by VNI and location (local, remote).",
        "weft_networks": "weft networks on this host.",
        "weft_ipam_addresses": "IPAM addresses of a pool, by state (in_use, free).",
        "weft_ipam_blocks_owned": "IPAM address blocks of a pool claimed by this host.",
        "weft_ipam_blocks_unreachable": "IPAM address blocks of a pool held by failed or suspect hosts.",
        "weft_uptime_seconds": "Seconds since the daemon started.",
        "weft_event_watchers": "Clients following the event journal (weft events) now.",
        "weft_event_watchers_refused_total": "Event watchers refused because the most allowed already followed.",
        "weft_event_watchers_cut_off_total": "Event watchers cut off because they fell too many events behind (they read too slowly).",
        "weft_peer_datapath_up": "Per-peer data-path probe: 1 while the peer's VXLAN port answers this host's probes, 0 after 3 lost in a row.",
        "weft_peer_datapath_rtt_seconds": "Per-peer data-path probe: smoothed round trip through the peer's VXLAN port.",
        "weft_peer_relayed": "1 while this host reaches the peer through a relay host, 0 on the direct path.",
        "weft_path_changes_total": "Path changes toward peers, by new path (direct, relay).",
        "weft_path_datapath_down_total": "Times a peer's direct data path was found down (3 probes lost in a row).",
        "weft_relay_packets_total": "Packets arriving on the relay port for other hosts, by result (forwarded, send_error, or the reason dropped).",
    ]

    /// The help for `name`; a name not in the catalog still gets one (Prometheus's linter wants every metric helped).
    public static func help(for name: String) -> String {
        help[name] ?? "weft metric \(name)."
    }

    /// `name` with its help, as the registry takes it.
    public static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help(for: name))
    }

    /// Buckets of the probe round-trip histogram: 0.1 ms (loopback, one LAN switch) to 2 s (an overloaded or
    /// distant peer; memberlist's probe timeout is 500 ms, indirect answers arrive later).
    public static let roundTripBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2),
    ]

    /// Buckets of the request-duration histograms: 1 ms to 10 s.
    public static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]
}
