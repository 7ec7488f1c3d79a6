import Logging
import Netlink

/// Resilient paths on the kernel side: the relays the networks' FDB entries follow, and the probe namespace whose
/// VXLAN device answers the other hosts' data-path probes.
extension OverlayDriver {
    /// Makes `routes` the relays of every network that allows relaying, and reprograms those whose entries change.
    public func setRelays(_ routes: RelayRoutes) async {
        guard routes != relayRoutes else { return }
        relayRoutes = routes
        await programRemote(Set(store.current.networks.values.filter(\.allowsRelay).map(\.vni)), .change)
    }

    /// Keeps the path service's latest view of each peer, for the status and the metrics.
    public func report(_ paths: [IPAddress: PeerPathReport]) {
        pathReport = paths
    }

    /// The relays a network's entries follow: none for an encrypted network or one with `weft.relay=off`.
    func relays(for network: NetworkRecord) -> RelayRoutes {
        network.allowsRelay ? relayRoutes : RelayRoutes(via: [:], port: relayRoutes.port)
    }

    /// The probe namespace: `paths` beside the networks' namespaces (not a VNI's name, so never taken for one).
    var probeNamespace: NamespaceReference { .path("\(host.namespaceDirectory)/\(PathProbe.namespaceName)") }

    /// Brings the probe namespace to its plan for `peers` (their VTEPs): made if missing, corrected otherwise.
    /// Returns false for an IPv6 underlay, where there is no probe.
    @discardableResult
    public func programProbe(peers: Set<IPAddress>, relayPort: UInt16) throws(DriverError) -> Bool {
        let action = "the path probe namespace"
        let session: NetlinkSession
        if let probeSession {
            session = probeSession
        } else {
            let reference = probeNamespace
            session = try kernel(action) { () throws(NetlinkError) -> NetlinkSession in
                let namespace = backend.namespaceExists(reference) ? try backend.openNamespace(reference) : try backend.createNamespace(reference)
                return try backend.session(in: namespace)
            }
            probeSession = session
        }
        let hostSession = try hostNamespace()
        let dumps = try kernel(action) { () throws(NetlinkError) in
            (try session.links(), try hostSession.links(), try session.addresses(), try session.forwardingDatabase())
        }
        guard let plan = ProbeDevicePlan.plan(
            local: host.advertiseAddress, vxlanPort: host.vxlanPort, relayPort: relayPort, peers: peers, links: dumps.0,
            hostLinks: dumps.1, addresses: dumps.2, fdb: dumps.3, namespaceFD: session.namespace.fd)
        else { return false }
        for step in plan.steps {
            logger.debug("path probe", metadata: ["operation": "\(step.operation)"])
            do throws(NetlinkError) {
                try (step.scope == .host ? hostSession : session).perform(step.operation)
            } catch {
                probeSession = nil
                throw .kernel(action: action, error: error)
            }
        }
        return true
    }

    /// Removes the probe namespace (weft stops relaying and probing: `--relay off`, or on exit).
    public func removeProbe() {
        probeSession = nil
        guard backend.namespaceExists(probeNamespace) else { return }
        do throws(NetlinkError) {
            try backend.deleteNamespace(probeNamespace)
        } catch {
            logger.warning("cannot remove the path probe namespace", metadata: ["error": "\(error)"])
        }
    }
}
