import Overlay

/// The status models in words and tables, as `weft status` and `weft diff` print them.
public enum StatusText {
    public static func summary(_ status: DaemonStatus) -> String {
        var lines = ["weft \(status.version) on \(status.node) (advertise \(status.advertiseAddress)), up \(duration(status.uptimeSeconds))"]
        if let gossip = status.gossip {
            let encryption = gossip.encrypted ? "encrypted (\(gossip.keys) key\(gossip.keys == 1 ? "" : "s"))" : "NOT encrypted"
            lines.append(
                "gossip:     \(gossip.alive) alive, \(gossip.suspect) suspect, \(gossip.failed) failed, \(gossip.left) left; \(encryption); "
                    + (gossip.synchronized ? "tables synchronized" : "tables not yet received"))
        } else {
            lines.append("gossip:     off (this host is on its own)")
        }
        let networks = status.networks
        lines.append("networks:   \(networks.count), endpoints \(networks.localEndpoints) local, \(networks.remoteEndpoints) remote")
        if status.ipam.isEmpty { lines.append("ipam:       no pools") }
        for pool in status.ipam {
            var text = "ipam:       pool \(pool.subnet): \(pool.inUse) in use, \(pool.free) free"
            if let owned = pool.blocksOwned { text += ", \(owned) block\(owned == 1 ? "" : "s") owned" }
            if let held = pool.blocksHeldByUnreachable, held > 0 { text += ", \(held) held by unreachable hosts" }
            lines.append(text)
        }
        if let wireGuard = status.wireGuard { lines.append("wireguard:  \(wireGuard)") }
        if let repair = status.lastRepair {
            lines.append(
                "repair:     \(duration(repair.secondsAgo)) ago over \(repair.networks) network\(repair.networks == 1 ? "" : "s"): "
                    + "\(repair.written) written, \(repair.removed) removed, \(repair.failed) failed")
        } else {
            lines.append("repair:     no pass yet")
        }
        if status.problems.isEmpty {
            lines.append("health:     ok")
        } else {
            lines.append("health:     \(status.problems.count) problem\(status.problems.count == 1 ? "" : "s")")
            lines += status.problems.map { "  - " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    public static func peers(_ peers: [PeerStatus]) -> String {
        guard !peers.isEmpty else { return "no peers: gossip is off (this host is on its own)" }
        return table(
            ["NAME", "ADDRESS", "STATE", "SINCE", "RTT LAST/P50/P99 MS", "LOSS", "ENDPOINTS", "PROTOCOL", "DATA PATH", "PATH", "REASON"],
            peers.map { peer in
                let rtt = [peer.rttLastMs, peer.rttP50Ms, peer.rttP99Ms].map { $0.map(milliseconds) ?? "-" }.joined(separator: "/")
                return [peer.name + (peer.isSelf ? " (self)" : ""), peer.address, peer.state, duration(peer.sinceSeconds),
                        peer.isSelf ? "-" : rtt, peer.probeLoss.map(percent) ?? "-", "\(peer.endpoints)", peer.protocolVersions,
                        peer.dataPath.map { state in state == "up" ? state + (peer.dataPathRttMs.map { " " + milliseconds($0) + " ms" } ?? "") : state } ?? "-",
                        peer.path.map { path in path + (peer.pathSinceSeconds.map { " for " + duration($0) } ?? "") } ?? "-",
                        reasons(peer)]
            })
    }

    /// Why a peer is not alive, and why its path is what it is when that is not the plain direct path.
    static func reasons(_ peer: PeerStatus) -> String {
        let pathReason = peer.path == nil || (peer.path == "direct" && peer.dataPath != "down") ? nil : peer.pathReason
        let text = [peer.reason, pathReason].compactMap { $0 }.joined(separator: "; ")
        return text.isEmpty ? "-" : text
    }

    public static func networks(_ networks: [NetworkStatus]) -> String {
        guard !networks.isEmpty else { return "no networks" }
        return table(
            ["NETWORK", "VNI", "SUBNET", "MTU", "LOCAL", "REMOTE", "HOSTS"],
            networks.map { network in
                [String(network.id.prefix(12)), "\(network.vni)", network.subnet, "\(network.mtu)", "\(network.localEndpoints.count)",
                 "\(network.remoteEndpoints.count)", network.hosts.isEmpty ? "-" : network.hosts.joined(separator: ",")]
            })
    }

    public static func network(_ network: NetworkStatus) -> String {
        var lines = [
            "network \(network.id)",
            "  vni \(network.vni), subnet \(network.subnet)\(network.gateway.map { ", gateway \($0)" } ?? ""), mtu \(network.mtu)"
                + (network.isInternal ? ", internal" : ""),
            "  hosts: \(network.hosts.isEmpty ? "none other" : network.hosts.joined(separator: ", "))",
            "local endpoints (\(network.localEndpoints.count)):",
        ]
        if !network.localEndpoints.isEmpty {
            lines.append(indent(table(["ENDPOINT", "IP", "MAC"], network.localEndpoints.map { [String($0.id.prefix(12)), $0.address, $0.mac] })))
        }
        lines.append("remote endpoints (\(network.remoteEndpoints.count)):")
        if !network.remoteEndpoints.isEmpty {
            lines.append(indent(table(["IP", "MAC", "HOST", "VTEP"], network.remoteEndpoints.map { [$0.address, $0.mac, $0.host, $0.vtep] })))
        }
        return lines.joined(separator: "\n")
    }

    public static func diff(_ report: DiffReport) -> String {
        guard !report.networks.isEmpty else { return "no networks" }
        var lines: [String] = []
        for network in report.networks {
            let count = network.differences.count
            lines.append(
                "network \(network.networkID.prefix(12)) (VNI \(network.vni)): "
                    + (count == 0 ? "kernel matches" : "\(count) difference\(count == 1 ? "" : "s")"))
            for difference in network.differences {
                lines.append("  \(difference.change.rawValue) \(difference.subject)")
                lines += difference.commands.map { "    " + $0 }
            }
            if let note = network.note { lines.append("  note: \(note)") }
        }
        return lines.joined(separator: "\n")
    }

    /// `0.42`, `12.3`, `250`: three significant digits at most, without Foundation's formatter.
    static func milliseconds(_ value: Double) -> String {
        if value >= 100 { return "\(Int(value.rounded()))" }
        let scale = value >= 10 ? 10.0 : 100.0
        let scaled = Int((value * scale).rounded())
        let whole = scaled / Int(scale)
        let fraction = scaled % Int(scale)
        let digits = scale == 10 ? "\(fraction)" : (fraction < 10 ? "0\(fraction)" : "\(fraction)")
        return "\(whole).\(digits)"
    }

    /// `0 %`, `2.5 %`.
    static func percent(_ fraction: Double) -> String {
        let tenths = Int((fraction * 1000).rounded())
        return tenths % 10 == 0 ? "\(tenths / 10) %" : "\(tenths / 10).\(tenths % 10) %"
    }

    /// `41 s`, `3 min 2 s`, `2 h 5 min`, `3 d 4 h`.
    public static func duration(_ seconds: Int) -> String {
        switch seconds {
        case ..<60: "\(seconds) s"
        case ..<3600: "\(seconds / 60) min \(seconds % 60) s"
        case ..<86400: "\(seconds / 3600) h \(seconds % 3600 / 60) min"
        default: "\(seconds / 86400) d \(seconds % 86400 / 3600) h"
        }
    }

    /// Left-aligned columns two spaces apart.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    private static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
    }
}
