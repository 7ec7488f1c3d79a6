import Logging
import Netlink

/// Encrypted networks: the WireGuard interface up while one exists, its peers from the cluster's records, and
/// per network the hosts an FDB entry may point at (``EncryptedPeerPlan``: configured and handshaken only).
extension OverlayDriver {
    /// This host's address inside the WireGuard interface: the local VTEP of its encrypted networks.
    var tunnelAddress: IPv4Address { TunnelAddressing.address(for: host.advertiseAddress) }

    /// The VXLAN device's local address: the tunnel address for an encrypted network, so that its packets
    /// leave only through WireGuard; the advertise address otherwise.
    func vxlanLocal(_ network: NetworkRecord) -> IPAddress {
        network.isEncrypted ? .v4(tunnelAddress) : host.advertiseAddress
    }

    /// The WireGuard fields of this host's record of an encrypted network: its public key and endpoint.
    func wireGuardAnnouncement(of network: NetworkRecord) -> WireGuardAnnouncement? {
        guard network.isEncrypted, let wireGuard else { return nil }
        return WireGuardAnnouncement(
            publicKey: wireGuard.keys.publicKey,
            endpoint: WireGuardEndpoint(address: host.advertiseAddress, port: wireGuard.listenPort))
    }

    /// Brings the WireGuard interface and its peers to the saved encrypted networks and the cluster's records,
    /// and recomputes which hosts each encrypted network may reach. The interface is made when the first
    /// encrypted network exists and removed with the last. Peers not yet handshaken are checked again shortly.
    func refreshEncryption() async {
        guard let wireGuard else { return }
        var announcements: [NetworkAnnouncement] = []
        if let cluster { announcements = Array(await cluster.networkTable.live.values) }
        let localNode = cluster?.node ?? ""
        let encrypted = Set(store.current.networks.values.filter(\.isEncrypted).map(\.vni))
        let session: NetlinkSession
        do { session = try hostNamespace() } catch {
            logger.error("WireGuard: cannot open the host namespace", metadata: ["error": "\(error)"])
            return
        }
        guard !encrypted.isEmpty else {
            encryptedReachable = [:]
            encryptionExcluded = [:]
            if wireGuardPeers != nil {
                wireGuard.filter.remove()
                wireGuard.device.tearDown(session: session)
                wireGuardPeers = nil
                logger.notice("WireGuard interface removed: no encrypted network left", metadata: ["interface": "\(wireGuard.device.name)"])
            }
            return
        }
        if wireGuardPeers == nil {
            let base = WireGuardConfiguration(keys: wireGuard.keys, listenPort: wireGuard.listenPort, peers: [])
            let overhead = NetworkPolicy.wireGuardOverhead(host)
            let mtu = host.underlayMTU > overhead + NetworkPolicy.minimumMTU ? host.underlayMTU - overhead : NetworkPolicy.minimumMTU
            do {
                let origin = try wireGuard.device.bringUp(base, tunnel: tunnelAddress, mtu: mtu, session: session)
                wireGuardPeers = []
                logger.notice("WireGuard interface up", metadata: [
                    "interface": "\(wireGuard.device.name)", "how": "\(origin.rawValue)", "tunnel": "\(tunnelAddress)",
                    "port": "\(wireGuard.listenPort)", "mtu": "\(mtu)", "public-key": "\(wireGuard.keys.publicKey)"])
            } catch {
                encryptedReachable = [:]
                logger.error("WireGuard interface cannot be brought up: encrypted networks reach no host", metadata: ["error": "\(error)"])
                return
            }
        }
        do {
            try wireGuard.filter.apply(vnis: encrypted, port: host.vxlanPort, interface: wireGuard.device.name)
        } catch {
            logger.error("encrypted networks accept plaintext VXLAN from the underlay", metadata: ["error": "\(error)"])
        }
        var advertised: [String: IPAddress] = [localNode: host.advertiseAddress]
        for network in announcements where network.host != localNode { advertised[network.host] = network.vtep }
        var plan: EncryptedPeerPlan
        do {
            plan = EncryptedPeerPlan.plan(localHost: localNode, encrypted: encrypted, announcements: announcements,
                                          advertised: advertised, device: try wireGuard.device.status())
            if plan.peers != wireGuardPeers {
                try wireGuard.device.update(peers: plan.peers, keepaliveSeconds: wireGuard.keepaliveSeconds)
                wireGuardPeers = plan.peers
                logger.info("WireGuard peers configured", metadata: ["peers": "\(plan.peers.count)"])
                plan = EncryptedPeerPlan.plan(localHost: localNode, encrypted: encrypted, announcements: announcements,
                                              advertised: advertised, device: try wireGuard.device.status())
            }
        } catch {
            // The interface broke (its wireguard-go died): the next pass adopts or replaces it.
            wireGuardPeers = nil
            encryptedReachable = [:]
            logger.error("WireGuard interface does not answer: encrypted networks reach no host", metadata: ["error": "\(error)"])
            scheduleHandshakeRecheck(encrypted, after: wireGuard.handshakeRecheck)
            return
        }
        var reachable: [VNI: [IPAddress: IPAddress]] = [:]
        for (vni, hosts) in plan.reachable {
            for (name, tunnel) in hosts {
                if let vtep = advertised[name] { reachable[vni, default: [:]][vtep] = .v4(tunnel) }
            }
        }
        encryptedReachable = reachable
        if plan.excluded != encryptionExcluded {
            encryptionExcluded = plan.excluded
            logger.notice("encrypted networks: hosts without FDB entries", metadata: plan.excluded.mapValues { .string($0) })
        }
        if plan.excluded.values.contains(where: { $0.hasPrefix("WireGuard peer") }) {
            // Doubling from the datapath's interval up to 16 times it while a peer stays silent (a host down).
            let delay = wireGuard.handshakeRecheck * (1 << min(handshakeWaits, 4))
            handshakeWaits += 1
            scheduleHandshakeRecheck(encrypted, after: delay)
        } else {
            handshakeWaits = 0
        }
    }

    /// One pending recheck at a time: a pass over the encrypted networks after `delay`.
    private func scheduleHandshakeRecheck(_ vnis: Set<VNI>, after delay: Duration) {
        guard handshakeRecheck == nil else { return }
        handshakeRecheck = Task {
            try? await Task.sleep(for: delay)
            await self.recheckHandshakes(vnis)
        }
    }

    private func recheckHandshakes(_ vnis: Set<VNI>) async {
        handshakeRecheck = nil
        if cluster == nil { await refreshEncryption() } else { await programRemote(vnis, .change) }
    }

    /// Removes the WireGuard interface (on exit): nothing of it is left on the host.
    public func stopEncryption() {
        handshakeRecheck?.cancel()
        handshakeRecheck = nil
        guard let wireGuard, wireGuardPeers != nil || store.current.networks.values.contains(where: \.isEncrypted),
              let session = try? hostNamespace() else { return }
        wireGuard.filter.remove()
        wireGuard.device.tearDown(session: session)
        wireGuardPeers = nil
        encryptedReachable = [:]
    }
}
