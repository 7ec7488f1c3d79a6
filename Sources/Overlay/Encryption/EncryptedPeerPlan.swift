import Netlink

/// For this host's encrypted networks: the WireGuard peers to configure, and per network the hosts whose FDB
/// entries may be written (toward their tunnel addresses). Fail closed: a host is reachable on an encrypted
/// network only when it announced a usable key for that network, its tunnel address is its own, and the device
/// shows its peer configured with that key and handshaken (or, right after the host rotated its key, configured
/// and within the rotation's grace). Every host left out is listed with the reason, for
/// the log and the status.
public struct EncryptedPeerPlan: Sendable, Equatable {
    /// The device's peers: every host sharing an encrypted network that can be configured.
    public var peers: [WireGuardPeer]
    /// Per encrypted network: host → the tunnel address its FDB entries point at.
    public var reachable: [VNI: [String: IPv4Address]]
    /// Host → why it gets no FDB entry on an encrypted network.
    public var excluded: [String: String]
    /// Host → its key, for the hosts reachable because their peer has handshaken with that key.
    public var handshaken: [String: WireGuardKey] = [:]
    /// Hosts reachable only by their rotation's grace: a new key, its peer configured, its handshake pending.
    public var rotating: Set<String> = []

    public init(peers: [WireGuardPeer], reachable: [VNI: [String: IPv4Address]], excluded: [String: String],
                handshaken: [String: WireGuardKey] = [:], rotating: Set<String> = []) {
        self.peers = peers
        self.reachable = reachable
        self.excluded = excluded
        self.handshaken = handshaken
        self.rotating = rotating
    }

    /// - Parameters:
    ///   - localHost: this host's name (its own announcements are skipped).
    ///   - encrypted: the VNIs of this host's encrypted networks.
    ///   - announcements: every live network definition in the cluster, oldest first: when a host's definitions
    ///     carry different keys (they are rewritten one by one when it rotates its key), its newest one counts.
    ///   - advertised: every member's advertise address, for the tunnel addresses (collisions exclude).
    ///   - device: what the WireGuard device reports now.
    ///   - rotationGrace: host → the key it had handshaken with, for hosts still within the grace of a key
    ///     rotation. Such a host announcing another key stays reachable while its new peer is configured and its
    ///     handshake pending (one round trip, which wireguard-go starts as soon as the peer is added): its FDB
    ///     entries point at its tunnel address, which routes only into that peer, so packets wait in
    ///     wireguard-go for the new session rather than being dropped, and none leaves in clear.
    public static func plan(
        localHost: String, encrypted: Set<VNI>, announcements: [NetworkAnnouncement], advertised: [String: IPAddress],
        device: WireGuardStatus, rotationGrace: [String: WireGuardKey] = [:]
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
        var keyless: [String: VNI] = [:]
        for network in announcements where network.host != localHost && encrypted.contains(network.vni) {
            guard let wireGuard = network.wireGuard, let key = wireGuard.key, let endpoint = wireGuard.endpoint else {
                keyless[network.host] = keyless[network.host] ?? network.vni
                continue
            }
            keys[network.host] = (key, endpoint)
            vnisOf[network.host, default: []].insert(network.vni)
        }
        for (host, vni) in keyless where excluded[host] == nil {
            excluded[host] = "announced network \(vni) without a WireGuard key"
        }
        let configured = Dictionary(device.peers.map { ($0.publicKey, $0) }, uniquingKeysWith: { first, _ in first })
        var plan = EncryptedPeerPlan(peers: [], reachable: [:], excluded: [:])
        for (host, (key, endpoint)) in keys.sorted(by: { $0.key < $1.key }) where excluded[host] == nil {
            guard let tunnel = tunnels.addresses[host], let allowed = IPInterface("\(tunnel)/32") else {
                excluded[host] = "no tunnel address (not a member)"
                continue
            }
            plan.peers.append(WireGuardPeer(publicKey: key, endpoint: endpoint, allowedIPs: [allowed]))
            guard let peer = configured[key], peer.allowedIPs.contains(allowed) else {
                excluded[host] = "WireGuard peer not configured yet"
                continue
            }
            if peer.hasHandshaken {
                plan.handshaken[host] = key
            } else if let previous = rotationGrace[host], previous != key {
                plan.rotating.insert(host)
            } else {
                excluded[host] = "WireGuard peer has not handshaken yet"
                continue
            }
            for vni in vnisOf[host] ?? [] { plan.reachable[vni, default: [:]][host] = tunnel }
        }
        plan.excluded = excluded
        return plan
    }
}
