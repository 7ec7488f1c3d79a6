import Logging
import Netlink

/// The overlay network driver of one host: turns Docker's network and endpoint lifecycle into kernel state
/// (a namespace per network with a bridge and a VXLAN port; a veth pair per endpoint) and keeps it, with its
/// records, across restarts.
///
/// State is saved before the kernel is changed and the kernel is brought to the saved state by the
/// ``Reconciler``, so every request is idempotent (Docker retries) and a crash anywhere leaves a state that
/// the next start converges from.
public actor OverlayDriver {
    public let host: HostSettings
    let backend: any NetlinkBackend
    let store: StateStore
    let logger: Logger
    var hostSession: NetlinkSession?
    var networkSessions: [VNI: NetlinkSession] = [:]
    /// Kernel corrections made by reconciliation since start, for visibility.
    public internal(set) var corrections = 0
    /// FDB and neighbour changes made for remote endpoints since start.
    public internal(set) var remoteCorrections = 0
    /// What the last repair pass corrected (``reconcileAllRemote()``); nil before the first.
    public internal(set) var lastRepair: RepairSummary?
    /// The repair passes' tally while a lane of remote passes runs.
    var repairTally: RepairSummary?

    /// The namespace Docker's side of every endpoint lives in: the process's own, except in tests.
    let hostNamespaceReference: NamespaceReference
    /// The replicated tables shared with the other hosts; nil for a host on its own.
    let cluster: ClusterState?
    /// Networks whose remote entries need reprogramming, and how; and whether a pass is running (see
    /// ``remoteChanged(_:)``).
    var pendingRemote: [VNI: RemotePass] = [:]
    var reconcilingRemote = false
    /// VNIs claimed by CreateNetwork and AllocateNetwork requests between their checks and their save.
    var creating = VNIReservations()
    var allocating = VNIReservations()
    /// The endpoints by the ID prefix their link names hold, for the clash check of CreateEndpoint.
    var linkNames = LinkNameIndex()
    /// Per network, the remote entries last written to its VXLAN device (the desired state then), so that the
    /// next change is applied as a difference. Absent until a repair pass has read the kernel, and dropped when a
    /// write fails.
    var programmedRemote: [VNI: ProgrammedRemote] = [:]
    /// Whether encrypted networks can be created here.
    public let encryption: EncryptionSupport
    /// The WireGuard interface and keys of encrypted networks; nil where encryption is unavailable.
    let wireGuard: EncryptedDatapath?
    /// The peers last written to the WireGuard interface; nil while the interface is not up.
    var wireGuardPeers: [WireGuardPeer]?
    /// Per encrypted network: each reachable host's advertise address → its tunnel address (``EncryptedPeerPlan``).
    var encryptedReachable: [VNI: [IPAddress: IPAddress]] = [:]
    /// Hosts without FDB entries on encrypted networks, and why, as last logged (for the status).
    public internal(set) var encryptionExcluded: [String: String] = [:]
    var handshakeRecheck: Task<Void, Never>?
    /// Rechecks in a row that found a peer not yet handshaken (they back off).
    var handshakeWaits = 0
    /// This host's rotated key and other hosts' rotations in progress.
    var keyRotation = WireGuardKeyRotation()
    /// The remote hosts reached through a relay (``setRelays(_:)``); networks that allow relaying use them.
    public internal(set) var relayRoutes = RelayRoutes.direct
    /// Each peer's paths (by VTEP), as the path service last reported them; empty while it does not run.
    public internal(set) var pathReport: [IPAddress: PeerPathReport] = [:]
    /// The probe namespace's session, once made (``programProbe(peers:relayPort:)``).
    var probeSession: NetlinkSession?

    /// - Parameter wireGuard: given where a WireGuard backend is available; encrypted networks are then accepted.
    public init(
        host: HostSettings, backend: any NetlinkBackend, store: StateStore, logger: Logger,
        hostNamespace: NamespaceReference = .current, cluster: ClusterState? = nil,
        encryption: EncryptionSupport = .notBuilt, wireGuard: EncryptedDatapath? = nil
    ) {
        self.encryption = wireGuard == nil ? encryption : .available
        self.wireGuard = wireGuard
        self.host = host
        self.backend = backend
        self.store = store
        self.logger = logger
        self.hostNamespaceReference = hostNamespace
        self.cluster = cluster
    }

    // MARK: Start

    /// Adopts what the kernel holds: reconciles every saved network (creating only what is missing or wrong,
    /// tearing nothing down that is right) and removes weft objects that belong to no saved network or endpoint.
    public func start() async throws(DriverError) {
        let state = store.current
        await refreshEncryption()
        for record in state.networks.values.sorted(by: { $0.vni < $1.vni }) {
            do throws(DriverError) {
                try reconcile(record, reason: .start)
            } catch {
                logger.error("network could not be restored", metadata: ["network": "\(record.shortID)", "error": "\(error)"])
            }
        }
        let known = Set(state.networks.values.map { layout(for: $0).namespace.path })
        for namespace in backend.namespaces(in: host.namespaceDirectory) where !known.contains(namespace.path) {
            let name = String(namespace.path.split(separator: "/").last ?? "")
            guard KernelLayout.vni(fromNamespaceName: name) != nil else { continue }
            do throws(NetlinkError) {
                try backend.deleteNamespace(namespace)
                corrections += 1
                logger.notice("removed a namespace of no network", metadata: ["namespace": "\(namespace.path)"])
            } catch {
                logger.warning("cannot remove stale namespace", metadata: ["namespace": "\(namespace.path)", "error": "\(error)"])
            }
        }
        let session = try hostNamespace()
        let hostEnds = Set(state.endpoints.keys.map(KernelLayout.hostEnd(endpoint:)))
        let cleanup = Reconciler.planHostCleanup(hostLinks: try kernel("dump the host's links") { () throws(NetlinkError) in try session.links() },
                                                 knownHostEnds: hostEnds)
        for (operation, outcome) in zip(cleanup, session.apply(cleanup)) {
            corrections += 1
            logger.notice("removed a leftover link", metadata: ["operation": "\(operation)", "outcome": "\(outcome)"])
        }
        // Tell the cluster again what this host has (versions stay above those written before a restart).
        if let cluster {
            for network in state.networks.values { await cluster.announce(announcement(of: network)) }
            for endpoint in state.endpoints.values {
                if let network = state.networks[endpoint.networkID] { await cluster.announce(announcement(of: endpoint, in: network)) }
            }
            await reconcileAllRemote()
        }
    }
}
