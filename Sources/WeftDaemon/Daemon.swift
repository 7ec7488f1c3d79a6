import Control
import CoreMetrics
import DockerPlugin
import Glibc
import Gossip
import Logging
import Netlink
import Overlay
import Prometheus
import ServiceLifecycle
import UnixSignals

/// weft's Docker network and IPAM driver, assembled from a ``DaemonConfiguration``: the underlay, the state, the
/// gossip node and its keys, the overlay driver, the IPAM, and the services that run until SIGTERM or SIGINT
/// (the plugin server and the cluster maintenance, in one `ServiceGroup`).
public struct Daemon: Sendable {
    public let configuration: DaemonConfiguration
    let logger: Logger
    /// weft's version, as `weft status` reports it.
    let version: String

    public init(configuration: DaemonConfiguration, logger: Logger, version: String = "unknown") {
        self.configuration = configuration
        self.logger = logger
        self.version = version
    }

    /// Runs until SIGTERM or SIGINT; then leaves the gossip gracefully.
    public func run() async throws {
        let started = ContinuousClock.now
        let config = configuration
        // Metrics first, so the modules' counters land in the registry from the start (once per process).
        let registry = PrometheusCollectorRegistry()
        if config.metricsAddress != nil { MetricsSystem.bootstrap(WeftMetricsFactory(registry: registry)) }
        let store = try StateStore(directory: config.stateDirectory)
        let underlay = try findUnderlay(store: store)
        let host = HostSettings(
            advertiseAddress: underlay.address, underlayMTU: underlay.mtu, vxlanPort: config.vxlanPort,
            namespaceDirectory: config.runtimeDirectory + "/netns")
        let backend: any NetlinkBackend = config.dryRun ? DryRunBackend(output: { line in print(line) }) : KernelBackend()

        let name = config.nodeName ?? underlay.address.description
        // This host's signing key and the keys pinned for the others: records speak only for their owner.
        let identity = try NodeIdentity.loadOrCreate(directory: config.stateDirectory)
        let pins = try PinnedIdentities(directory: config.stateDirectory)
        let cluster = ClusterState(node: name, identity: identity, pins: pins, logger: logger)
        let (encryption, wireGuard) = try setUpEncryption(config)
        let gossipAddress = GossipAddress(ip: underlay.address, port: config.gossipPort)
        // One underlay family per cluster: a seed of the other family could never answer, so say why at once.
        if let mismatch = config.seeds.lazy.compactMap({ GossipError.otherAddressFamily(seed: $0, local: gossipAddress) }).first {
            throw mismatch
        }
        // A dry run gossips only when asked to join: it must not announce a host that programs nothing.
        let gossiping = !config.dryRun || !config.seeds.isEmpty
        var node: GossipNode?
        var keySetup: GossipKeySetup?
        if gossiping {
            let setup = try GossipKeySetup.resolve(
                keyFilePath: config.keyFile, environmentKeys: config.environmentKeys, commandLineKeys: config.commandLineKeys,
                stateDirectory: config.stateDirectory, insecure: config.insecureGossip,
                hasSeeds: !config.seeds.isEmpty || !store.current.knownPeers.isEmpty, logger: logger)
            setup.report(advertise: underlay.address.description, gossipPort: config.gossipPort, logger: logger)
            var gossipConfiguration = GossipConfiguration(
                name: name, tags: ["role": "weft", "vtep": underlay.address.description].merging(identity.tags) { $1 },
                logger: logger)
            if config.failureDetection == .fast { gossipConfiguration = gossipConfiguration.fastFailureDetection() }
            gossipConfiguration.joinAttempts = 1  // the maintenance retries with its own capped backoff
            gossipConfiguration.wire = try setup.wireConfig()
            let transport = try await NIOGossipTransport.bind(gossipAddress)
            let gossip = try GossipNode(configuration: gossipConfiguration, transport: transport, delegate: cluster)
            await cluster.attach { payload, key in await gossip.broadcast(payload, key: key) }
            await gossip.start()
            logger.info("gossip running", metadata: ["node": "\(name)", "address": "\(transport.localAddress)"])
            node = gossip
            keySetup = setup
        }

        let driver = OverlayDriver(
            host: host, backend: backend, store: store, logger: logger, cluster: gossiping ? cluster : nil,
            encryption: encryption, wireGuard: wireGuard)
        try await driver.start()
        logger.info(
            "weft started",
            metadata: [
                "socket": "\(config.socketPath)", "state": "\(config.stateDirectory)", "underlay": "\(underlay.interface)",
                "advertise": "\(underlay.address)", "mtu": "\(host.defaultOverlayMTU)", "dry-run": "\(config.dryRun)",
            ])
        let allocatorConfiguration = try AllocatorConfiguration(
            defaultRange: config.defaultRange, sharesRequestedAddresses: config.scope == .global)
        let allocator: any AddressAllocator
        if gossiping {
            // Addresses unique across hosts: each host allocates from blocks it claims through the cluster.
            let clusterAllocator = ClusterAddressAllocator(
                configuration: allocatorConfiguration, store: store, cluster: cluster, logger: logger)
            await clusterAllocator.start()
            allocator = clusterAllocator
        } else {
            allocator = LocalAddressAllocator(configuration: allocatorConfiguration, store: store)
        }
        // Under swarm with no seeds of its own, swarm's networks decide when this host is in the gossip.
        let swarm = node.map {
            SwarmGossip(
                node: $0, cluster: cluster, store: store, defaultPort: config.gossipPort,
                idleLeave: config.scope == .global && config.seeds.isEmpty ? config.swarmIdleLeave : nil,
                keyFile: keySetup?.keyFile, logger: logger)
        }
        let router = PluginRouter(
            network: OverlayNetworkBackend(
                driver: driver, scope: config.scope, membership: swarm,
                gossipSeed: gossiping ? "\(gossipAddress)" : nil,
                advertiseAddressConfigured: config.advertiseAddress != nil || config.underlayInterface != nil),
            ipam: AllocatorIpamBackend(allocator: allocator),
            control: node.map { GossipControl(node: $0, defaultPort: config.gossipPort, keyFile: keySetup?.keyFile) })
        let server = PluginServer(
            configuration: PluginServerConfiguration(socketPath: config.socketPath), router: router, logger: logger)

        let status = StatusSource(
            version: version, host: host, node: node, cluster: gossiping ? cluster : nil, driver: driver, store: store,
            started: started)
        let control = ControlServer.make(socketPath: config.controlSocketPath, source: status, logger: logger)

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: server), .init(service: control)]
        if let address = config.metricsAddress {
            let listener = MetricsListener(
                address: address, exporter: MetricsExporter(registry: registry, source: status), logger: logger)
            services.append(.init(service: listener, successTerminationBehavior: .ignore))
        }
        if let node {
            var timing = ClusterMaintenance<ContinuousClock>.Timing()
            timing.failedHostGrace = config.failedHostGrace
            services.append(.init(service: ClusterMaintenance(
                node: node, swarm: swarm, cluster: cluster, driver: driver, store: store, seeds: config.seeds,
                gossipPort: config.gossipPort, ownAddress: gossipAddress, timing: timing, clock: ContinuousClock(),
                logger: logger)))
        }
        if let paths = pathService(cluster: gossiping && !config.dryRun ? cluster : nil, driver: driver, host: host) {
            services.append(.init(service: PathServiceRunner(service: paths)))
        }
        let vips = serviceVIPServer(store: store, host: host, backend: backend)
        if let vips { services.append(.init(service: ServiceVIPService(server: vips))) }
        let reloading = Task { [logger] in
            guard let node, let keySetup, !keySetup.keys.isEmpty else { return }
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                await KeyReload.reload(node: node, from: keySetup.keyFile, logger: logger)
            }
        }
        let rotating = Task { [logger] in
            guard wireGuard != nil, let interval = config.encryptionKeyRotation else { return }
            await KeyRotationSchedule.run(driver: driver, every: interval, keyDirectory: config.stateDirectory, logger: logger)
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            reloading.cancel()
            rotating.cancel()
            await driver.stopEncryption()
            throw error
        }
        reloading.cancel()
        rotating.cancel()
        await driver.stopEncryption()
        if let node {
            await node.leave(timeout: .seconds(3), reason: "weft stopped")
            await node.stop()
        }
    }

    /// The underlay: the configured address or interface, else the address swarm advertised for this node last
    /// time, else the kernel's route toward the first seed, else (with a warning) the first interface that is up.
    private func findUnderlay(store: StateStore) throws -> UnderlayDiscovery.Underlay {
        let config = configuration
        var advertise = config.advertiseAddress
        // The underlay is read from the real kernel in both modes: reading needs no privilege.
        let reader = try KernelBackend().session(in: .current)
        let localAddresses = try reader.addresses()
        if advertise == nil, config.underlayInterface == nil, let remembered = store.current.swarmAddress {
            if localAddresses.contains(where: { $0.address.address == remembered }) {
                advertise = remembered
            } else {
                logger.warning("this host no longer has the address swarm advertised for it", metadata: ["address": "\(remembered)"])
            }
        }
        if advertise == nil, config.underlayInterface == nil, let seed = config.seeds.first,
            let routed = RouteProbe.sourceAddress(toward: seed)
        {
            advertise = routed
        }
        let underlay = try UnderlayDiscovery.find(
            links: try reader.links(), addresses: localAddresses, advertiseAddress: advertise, interface: config.underlayInterface)
        if advertise == nil, config.underlayInterface == nil {
            logger.warning(
                "no advertise address was given and no seed routes one: weft guessed the first interface that is up; give --advertise-address or --underlay-interface",
                metadata: ["interface": "\(underlay.interface)", "address": "\(underlay.address)"])
        }
        if UnderlayDiscovery.isPublic(underlay.address) {
            logger.warning(
                "the advertise address is public: firewall UDP 4789 (VXLAN) and UDP/TCP 7946 (gossip) to the cluster's hosts (README: Security)",
                metadata: ["address": "\(underlay.address)"])
        }
        return underlay
    }
}
