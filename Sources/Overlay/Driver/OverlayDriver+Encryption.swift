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
        guard network.isEncrypted, let wireGuard, let keys = wireGuardKeys else { return nil }
        return WireGuardAnnouncement(
            publicKey: keys.publicKey,
            endpoint: WireGuardEndpoint(address: host.advertiseAddress, port: wireGuard.listenPort))
    }

    /// This host's WireGuard key pair now: the one loaded at start until a rotation replaces it.
    public var wireGuardKeys: WireGuardKeyPair? { keyRotation.keys ?? wireGuard?.keys }

    /// Which WireGuard carries encrypted networks and why (``EncryptedDatapath/backend``) and this host's public
    /// key, or why encrypted networks are refused here.
    public var wireGuardBackend: String {
        guard let wireGuard, let keys = wireGuardKeys else {
            if case .unavailable(let reason) = encryption { return "none: encrypted networks are refused (\(reason))" }
            return "none"
        }
        return "\(wireGuard.backend); public key \(keys.publicKey)"
    }

    /// Brings the WireGuard interface and its peers to the saved encrypted networks and the cluster's records,
    /// and recomputes which hosts each encrypted network may reach. The interface is made when the first
    /// encrypted network exists and removed with the last. Peers not yet handshaken are checked again shortly.
    func refreshEncryption() async {
        guard let wireGuard else { return }
        var announcements: [NetworkAnnouncement] = []
        if let cluster {
            // Oldest first: mid-rotation, a host's newest definition carries its key.
            let table = await cluster.networkTable
            let live = table.live
            announcements = live.keys.sorted { lhs, rhs in
                if let a = table.entries[lhs]?.version, let b = table.entries[rhs]?.version, a != b { return a < b }
                return lhs < rhs
            }.compactMap { live[$0] }
        }
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
            let keys = wireGuardKeys ?? wireGuard.keys
            let base = WireGuardConfiguration(keys: keys, listenPort: wireGuard.listenPort, peers: [])
            let overhead = NetworkPolicy.wireGuardOverhead(host)
            let mtu = host.underlayMTU > overhead + NetworkPolicy.minimumMTU ? host.underlayMTU - overhead : NetworkPolicy.minimumMTU
            do {
                let origin = try wireGuard.device.bringUp(base, tunnel: tunnelAddress, mtu: mtu, session: session)
                wireGuardPeers = []
                logger.notice("WireGuard interface up", metadata: [
                    "interface": "\(wireGuard.device.name)", "how": "\(origin.rawValue)", "tunnel": "\(tunnelAddress)",
                    "port": "\(wireGuard.listenPort)", "mtu": "\(mtu)", "public-key": "\(keys.publicKey)"])
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
        let now = ContinuousClock.now
        let grace = keyRotation.grace(at: now, lasting: wireGuard.rotationGrace)
        do {
            plan = EncryptedPeerPlan.plan(localHost: localNode, encrypted: encrypted, announcements: announcements,
                                          advertised: advertised, device: try wireGuard.device.status(), rotationGrace: grace)
            if plan.peers != wireGuardPeers {
                // A host's new key replaces its old peer in one request: wireguard-go starts the handshake at once.
                try wireGuard.device.update(peers: plan.peers, keepaliveSeconds: wireGuard.keepaliveSeconds)
                wireGuardPeers = plan.peers
                logger.info("WireGuard peers configured", metadata: ["peers": "\(plan.peers.count)"])
                plan = EncryptedPeerPlan.plan(localHost: localNode, encrypted: encrypted, announcements: announcements,
                                              advertised: advertised, device: try wireGuard.device.status(), rotationGrace: grace)
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
        for host in plan.rotating where keyRotation.rotatingSince[host] == nil {
            logger.notice("WireGuard: a host rotated its key; its FDB entries stay while the new peer handshakes",
                          metadata: ["host": "\(host)", "grace": "\(wireGuard.rotationGrace)"])
        }
        keyRotation.record(plan, at: now)
        if plan.excluded != encryptionExcluded {
            encryptionExcluded = plan.excluded
            logger.notice("encrypted networks: hosts without FDB entries", metadata: plan.excluded.mapValues { .string($0) })
        }
        if !plan.rotating.isEmpty {
            // Not backed off: a rotating host's grace ends on time.
            scheduleHandshakeRecheck(encrypted, after: wireGuard.handshakeRecheck)
        } else if plan.excluded.values.contains(where: { $0.hasPrefix("WireGuard peer") }) {
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

extension OverlayDriver {
    /// Rotates this host's WireGuard key, make-before-break as far as WireGuard allows: the new key is saved first
    /// (a restart at any moment finds a key it then announces), then set on the interface (wireguard-go expires
    /// the sessions made with the old one, queues what it must send and handshakes again), then announced in this
    /// host's definitions of its encrypted networks. Each peer replaces this host's peer entry as soon as it
    /// sees the new key, which starts a handshake at once: the gap is one handshake round trip, and the peers'
    /// FDB entries toward this host stay meanwhile (``EncryptedPeerPlan``).
    public func rotateWireGuardKey() async throws(WireGuardRotationError) -> WireGuardRotationResult {
        guard let wireGuard, let previous = wireGuardKeys else {
            if case .unavailable(let reason) = encryption { throw .unavailable(reason: reason) }
            throw .unavailable(reason: "no WireGuard backend")
        }
        let keys = WireGuardKeyPair()
        if let directory = wireGuard.keyDirectory {
            do { try keys.save(directory: directory) } catch { throw .save(error) }
        }
        let interfaceUp = wireGuardPeers != nil
        if interfaceUp {
            do { try wireGuard.device.setIdentity(keys) } catch {
                if let directory = wireGuard.keyDirectory { try? previous.save(directory: directory) }
                // The device's key is unknown now: the next pass sets the old one again.
                wireGuardPeers = nil
                throw .device(error)
            }
        }
        keyRotation.keys = keys
        logger.notice("WireGuard key rotated", metadata: [
            "previous-public-key": "\(previous.publicKey)", "public-key": "\(keys.publicKey)",
            "interface": interfaceUp ? "updated" : "not up"])
        let encrypted = store.current.networks.values.filter(\.isEncrypted)
        if let cluster {
            for network in encrypted.sorted(by: { $0.vni < $1.vni }) { await cluster.announce(announcement(of: network)) }
        }
        return WireGuardRotationResult(
            previousPublicKey: previous.publicKey.base64, publicKey: keys.publicKey.base64,
            announcedNetworks: cluster == nil ? 0 : encrypted.count, interfaceUpdated: interfaceUp)
    }
}
