import Netlink

/// For this host's encrypted networks: the WireGuard peers to configure, and per network the hosts whose FDB
/// entries may be written (toward their tunnel addresses). Fail closed: a host is reachable on an encrypted
/// network only when it announced a usable key for that network, its tunnel address is its own, and the device
/// shows its peer configured with that key and handshaken. Every host left out is listed with the reason, for
/// the log and the status.
public struct EncryptedPeerPlan: Sendable, Equatable {
    /// The device's peers: every host sharing an encrypted network that can be configured.
    public var peers: [WireGuardPeer]
    /// Per encrypted network: host → the tunnel address its FDB entries point at.
    public var reachable: [VNI: [String: IPv4Address]]
    /// Host → why it gets no FDB entry on an encrypted network.
    public var excluded: [String: String]

    /// - Parameters:
    ///   - localHost: this host's name (its own announcements are skipped).
    ///   - encrypted: the VNIs of this host's encrypted networks.
    ///   - announcements: every live network definition in the cluster.
    ///   - advertised: every member's advertise address, for the tunnel addresses (collisions exclude).
    ///   - device: what the WireGuard device reports now.
    public static func plan(
        localHost: String, encrypted: Set<VNI>, announcements: [NetworkAnnouncement], advertised: [String: IPAddress],
        device: WireGuardStatus
    ) -> EncryptedPeerPlan {
        let tunnels = TunnelAddressing.assign(advertised)
        var excluded: [String: String] = [:]
        for (address, hosts) in tunnels.collisions {
            for host in hosts where host != localHost {
                excluded[host] = "tunnel address \(address) is shared with \(hosts.filter { $0 != host }.joined(separator: ", "))"
            }
        }
        var keys: [String: (WireGuardKey, WireGuardEndpoint)] = [:]
        var vnisOf: [String: Set<VNI>] = [:]
        for network in announcements.sorted(by: { ($0.host, $0.vni) < ($1.host, $1.vni) })
        where network.host != localHost && encrypted.contains(network.vni) {
            guard let wireGuard = network.wireGuard, let key = wireGuard.key, let endpoint = wireGuard.endpoint else {
                excluded[network.host] = excluded[network.host] ?? "announced network \(network.vni) without a WireGuard key"
                continue
            }
            if let known = keys[network.host], known.0 != key || known.1 != endpoint {
                excluded[network.host] = "announced two WireGuard keys or endpoints"
                continue
            }
            keys[network.host] = (key, endpoint)
            vnisOf[network.host, default: []].insert(network.vni)
        }
        let configured = Dictionary(device.peers.map { ($0.publicKey, $0) }, uniquingKeysWith: { first, _ in first })
        var peers: [WireGuardPeer] = []
        var reachable: [VNI: [String: IPv4Address]] = [:]
        for (host, (key, endpoint)) in keys.sorted(by: { $0.key < $1.key }) where excluded[host] == nil {
            guard let tunnel = tunnels.addresses[host], let allowed = InterfaceAddress("\(tunnel)/32") else {
                excluded[host] = "no tunnel address (not a member)"
                continue
            }
            peers.append(WireGuardPeer(publicKey: key, endpoint: endpoint, allowedIPs: [allowed]))
            guard let peer = configured[key], peer.allowedIPs.contains(allowed) else {
                excluded[host] = "WireGuard peer not configured yet"
                continue
            }
            guard peer.hasHandshaken else {
                excluded[host] = "WireGuard peer has not handshaken yet"
                continue
            }
            for vni in vnisOf[host] ?? [] { reachable[vni, default: [:]][host] = tunnel }
        }
        return EncryptedPeerPlan(peers: peers, reachable: reachable, excluded: excluded)
    }
}
