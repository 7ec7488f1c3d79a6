import Netlink

/// What makes a network's service VIPs answer on this host, inside the network's namespace: each VIP as an
/// address of the bridge (so the bridge answers ARP for it and takes its packets in), IPv4 forwarding on the
/// bridge, and an nftables table `ip weft_vip` that rewrites each new connection to a VIP to one of the
/// service's tasks, in turn. Conntrack keeps a connection on the task it was given, and rewrites the task's
/// replies back to the VIP as they cross the bridge (bridged IPv4 passes the IP hooks: `br_netfilter`, which
/// Docker loads); no source rewriting is needed, so tasks see the client's own address.
///
/// A VIP whose service has no task left is refused (a TCP reset, an ICMP unreachable) rather than answered by
/// the bridge. Everything here is weft's: the table is replaced whole, and removed when no VIP is left.
public struct VIPRuleset: Hashable, Sendable {
    public static let table = "weft_vip"

    public let services: [ServiceVIP]

    public init(services: [ServiceVIP]) {
        self.services = services.sorted { $0.vip < $1.vip }
    }

    public var isEmpty: Bool { services.isEmpty }

    /// The VIPs, as addresses of the bridge with the network's prefix length (so the bridge has a route to the
    /// subnet for the rewritten packets).
    public func bridgeAddresses(subnet: IPv4Subnet) -> Set<IPInterface> {
        Set(services.compactMap { service in
            IPInterface(address: .v4(service.vip), prefixLength: subnet.prefixLength)
        })
    }

    /// The `nft -f -` script that replaces weft's table with this ruleset in one transaction (or only removes
    /// it, when there is no VIP).
    public var script: String {
        var lines = [
            "table ip \(Self.table)",
            "delete table ip \(Self.table)",
        ]
        guard !services.isEmpty else { return lines.joined(separator: "\n") + "\n" }
        lines.append("table ip \(Self.table) {")
        lines.append("\tchain prerouting {")
        lines.append("\t\ttype nat hook prerouting priority dstnat; policy accept;")
        for service in services where !service.backends.isEmpty {
            let map = service.backends.enumerated().map { "\($0.offset) : \($0.element)" }.joined(separator: ", ")
            lines.append("\t\tip daddr \(service.vip) dnat to numgen inc mod \(service.backends.count) map { \(map) }")
        }
        lines.append("\t}")
        lines.append("\tchain input {")
        lines.append("\t\ttype filter hook input priority filter; policy accept;")
        let vips = services.map(\.vip.description).joined(separator: ", ")
        lines.append("\t\tip daddr { \(vips) } meta l4proto tcp reject with tcp reset")
        lines.append("\t\tip daddr { \(vips) } reject")
        lines.append("\t}")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The script that removes weft's table.
    public static let removal = VIPRuleset(services: []).script
}
