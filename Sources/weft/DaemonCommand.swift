import ArgumentParser
import DockerPlugin
import Glibc
import Gossip
import Logging
import Netlink
import Overlay
import ServiceLifecycle
import UnixSignals

/// `weft daemon`: the Docker network and IPAM driver, serving Docker's plugin API on a Unix socket.
struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run weft's Docker network and IPAM driver.",
        discussion: """
            Every option can also be set in the environment: WEFT_SOCKET, WEFT_STATE_DIR, WEFT_RUNTIME_DIR, \
            WEFT_ADVERTISE_ADDRESS, WEFT_UNDERLAY_INTERFACE, WEFT_VXLAN_PORT, WEFT_LOG_LEVEL, WEFT_DRY_RUN=1, \
            WEFT_JOIN (comma-separated), WEFT_GOSSIP_PORT, WEFT_KEY_FILE, WEFT_GOSSIP_KEY (comma-separated, primary first), WEFT_INSECURE_GOSSIP=1, WEFT_NODE_NAME, WEFT_SCOPE, WEFT_SWARM_IDLE_LEAVE, WEFT_FAILURE_DETECTION; WEFT_LOG_OUTPUT=stdout logs to \
            standard output instead of standard error. \
            With --dry-run weft needs no root and changes nothing: it serves the whole API and prints each kernel \
            change it would make as the equivalent ip/bridge command.
            """
    )

    @Option(help: "The Unix socket Docker finds the plugin at.")
    var socket: String?

    @Option(help: "Where weft keeps its state (networks, endpoints, IPAM).")
    var stateDir: String?

    @Option(help: "Where weft keeps runtime files; network namespaces live in <runtime-dir>/netns.")
    var runtimeDir: String?

    @Option(help: "This host's address on the underlay, the local VXLAN endpoint (default: the --underlay-interface's, else the address swarm advertised for this node last time, else the source address toward the first seed, else the first up interface's).")
    var advertiseAddress: String?

    @Option(help: "The underlay interface (its first IPv4 address is advertised).")
    var underlayInterface: String?

    @Option(help: "The UDP port for VXLAN traffic.")
    var vxlanPort: UInt16?

    @Option(help: "The range IPAM pools come from when a network has no --subnet.")
    var defaultRange: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Flag(help: "Change nothing in the kernel; print what would be done.")
    var dryRun = false

    @Option(help: "A weft host to join, host[:port]; repeat for several. Seeds are retried with backoff.")
    var join: [String] = []

    @Option(help: "The gossip port, UDP and TCP, on the advertise address.")
    var gossipPort: UInt16?

    @Option(help: "A file of gossip keys (base64, one per line, primary first; root-owned, mode 0600). Default: the state directory's gossip.key, created when this host starts a cluster.")
    var keyFile: String?

    @Flag(help: "Gossip in plaintext, without a key: anyone who reaches the gossip port can read and forge it.")
    var insecureGossip = false

    /// Keys on the command line are readable by every local user; kept for old scripts, not documented.
    @Option(help: .hidden)
    var encrypt: [String] = []

    @Option(help: "This host's name in the cluster (default: its advertise address).")
    var nodeName: String?

    @Option(help: "How quickly a silent host is declared failed: lan (memberlist's LAN timings: probes every second, suspicion from 4 s) or fast (probes every 500 ms, suspicion from 2 s; for a LAN with round trips well under 100 ms).")
    var failureDetection: String?

    @Option(help: "Seconds after which a failed host's endpoints and address blocks are forgotten.")
    var failedHostGrace: Double = 600

    @Option(help: "The driver's scope: local for the socket plugin, global for the managed plugin under swarm.")
    var scope: String?

    @Option(help: "With global scope and no --join: seconds without a swarm network after which this host leaves the gossip (a node that left the swarm).")
    var swarmIdleLeave: Double?

    func run() async throws {
        let environment = Environment()
        let dryRun = dryRun || environment["WEFT_DRY_RUN"] == "1"
        let levelName = logLevel ?? environment["WEFT_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelName) else {
            throw ValidationError("log level \"\(levelName)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
        // A managed plugin's stderr reaches dockerd's log tagged as errors, so the plugin logs to stdout.
        let toStandardOutput = environment["WEFT_LOG_OUTPUT"] == "stdout"
        LoggingSystem.bootstrap { label in
            var handler = toStandardOutput ? StreamLogHandler.standardOutput(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "weft")
        let isRoot = geteuid() == 0
        let unprivilegedDefault = "/tmp/weft-dry-run-\(getuid())"
        let socket = socket ?? environment["WEFT_SOCKET"]
            ?? (dryRun && !isRoot ? "\(unprivilegedDefault)/weft.sock" : PluginServerConfiguration.defaultSocketPath)
        let stateDir = stateDir ?? environment["WEFT_STATE_DIR"] ?? (dryRun ? "\(unprivilegedDefault)/state" : "/var/lib/weft")
        let runtimeDir = runtimeDir ?? environment["WEFT_RUNTIME_DIR"] ?? "/run/weft"
        let vxlanPort = try vxlanPort ?? environment.port("WEFT_VXLAN_PORT") ?? 4789
        var advertise: IPAddress?
        if let text = advertiseAddress ?? environment["WEFT_ADVERTISE_ADDRESS"] {
            guard let address = IPAddress(text) else { throw ValidationError("\(text) is not an IP address") }
            advertise = address
        }
        let range: IPv4Subnet
        do {
            range = try IPv4Subnet(parsing: defaultRange ?? environment["WEFT_DEFAULT_RANGE"] ?? AllocatorConfiguration.standardRange.description)
        } catch {
            throw ValidationError("default range: \(error)")
        }

        // Gossip settings first: without an advertise address, the route toward the seeds picks it.
        let gossipPort = try gossipPort ?? environment.port("WEFT_GOSSIP_PORT") ?? 7946
        let seedTexts = join.isEmpty ? (environment["WEFT_JOIN"]?.split(separator: ",").map(String.init) ?? []) : join
        let seeds = try seedTexts.map { text throws -> GossipAddress in
            guard let seed = GossipAddress(parsing: text, defaultPort: gossipPort) else {
                throw ValidationError("join seed \"\(text)\" is not host[:port]")
            }
            return seed
        }
        let interfaceName = underlayInterface ?? environment["WEFT_UNDERLAY_INTERFACE"]
        let addressConfigured = advertise != nil || interfaceName != nil
        let store = try StateStore(directory: stateDir)
        // The underlay is read from the real kernel in both modes: reading needs no privilege.
        let reader = try KernelBackend().session(in: .current)
        let localAddresses = try reader.addresses()
        if !addressConfigured, let remembered = store.current.swarmAddress {
            // The address swarm advertised for this node last time (DiscoverNew), if the host still has it.
            if localAddresses.contains(where: { $0.address.address == remembered }) {
                advertise = remembered
            } else {
                logger.warning("this host no longer has the address swarm advertised for it", metadata: ["address": "\(remembered)"])
            }
        }
        if advertise == nil, interfaceName == nil, let seed = seeds.first, let routed = RouteProbe.sourceAddress(toward: seed) {
            advertise = routed
        }

        let underlay = try UnderlayDiscovery.find(
            links: try reader.links(), addresses: localAddresses, advertiseAddress: advertise, interface: interfaceName)
        if advertise == nil, interfaceName == nil {
            logger.warning(
                "no advertise address was given and no seed routes one: weft guessed the first interface that is up; give --advertise-address or --underlay-interface",
                metadata: ["interface": "\(underlay.interface)", "address": "\(underlay.address)"])
        }
        if UnderlayDiscovery.isPublic(underlay.address) {
            logger.warning(
                "the advertise address is public: firewall UDP 4789 (VXLAN) and UDP/TCP 7946 (gossip) to the cluster's hosts (README: Security)",
                metadata: ["address": "\(underlay.address)"])
        }
        let host = HostSettings(
            advertiseAddress: underlay.address, underlayMTU: underlay.mtu, vxlanPort: vxlanPort,
            namespaceDirectory: runtimeDir + "/netns")
        let backend: any NetlinkBackend =
            dryRun ? DryRunBackend(output: { line in print(line) }) : KernelBackend()

        let name = nodeName ?? environment["WEFT_NODE_NAME"] ?? underlay.address.description
        let cluster = ClusterState(node: name, logger: logger)
        let gossipAddress = GossipAddress(ip: underlay.address.bytes, port: gossipPort)
        var gossipConfiguration = GossipConfiguration(name: name, tags: ["role": "weft", "vtep": underlay.address.description], logger: logger)
        switch failureDetection ?? environment["WEFT_FAILURE_DETECTION"] ?? "lan" {
        case "lan": break
        case "fast": gossipConfiguration = gossipConfiguration.fastFailureDetection()
        case let other: throw ValidationError("failure detection \"\(other)\" is not lan or fast")
        }
        gossipConfiguration.joinAttempts = 1  // the daemon retries with its own capped backoff, below
        // A dry run gossips only when asked to join: it must not announce a host that programs nothing.
        let gossiping = !dryRun || !seeds.isEmpty
        var keySetup: GossipKeySetup?
        if gossiping {
            let setup = try GossipKeySetup.resolve(
                keyFilePath: keyFile ?? environment["WEFT_KEY_FILE"], environmentKeys: environment["WEFT_GOSSIP_KEY"],
                commandLineKeys: encrypt, stateDirectory: stateDir,
                insecure: insecureGossip || environment["WEFT_INSECURE_GOSSIP"] == "1", hasSeeds: !seeds.isEmpty || !store.current.knownPeers.isEmpty,
                logger: logger)
            gossipConfiguration.wire = try setup.wireConfig()
            setup.report(advertise: underlay.address.description, gossipPort: gossipPort, logger: logger)
            keySetup = setup
        }
        var node: GossipNode?
        if gossiping {
            let transport = try await NIOGossipTransport.bind(gossipAddress)
            let gossip = try GossipNode(configuration: gossipConfiguration, transport: transport, delegate: cluster)
            await cluster.attach { payload, key in await gossip.broadcast(payload, key: key) }
            await gossip.start()
            logger.info("gossip running", metadata: ["node": "\(name)", "address": "\(transport.localAddress)"])
            node = gossip
        }

        let driver = OverlayDriver(
            host: host, backend: backend, store: store, logger: logger, cluster: gossiping ? cluster : nil)
        try await driver.start()
        logger.info(
            "weft started",
            metadata: [
                "socket": "\(socket)", "state": "\(stateDir)", "underlay": "\(underlay.interface)",
                "advertise": "\(underlay.address)", "mtu": "\(host.defaultOverlayMTU)", "dry-run": "\(dryRun)",
            ])
        let scopeName = scope ?? environment["WEFT_SCOPE"] ?? "local"
        guard let driverScope = DriverScope(rawValue: scopeName) else {
            throw ValidationError("scope \"\(scopeName)\" is not local or global")
        }
        let allocatorConfiguration = try AllocatorConfiguration(
            defaultRange: range, sharesRequestedAddresses: driverScope == .global)
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
        let control = node.map { GossipControl(node: $0, defaultPort: gossipPort, keyFile: keySetup?.keyFile) }
        // Under swarm with no seeds of its own, swarm's networks decide when this host is in the gossip.
        let idleText = environment["WEFT_SWARM_IDLE_LEAVE"]
        guard let idleSeconds = swarmIdleLeave ?? (idleText.map { Double($0) } ?? 10), idleSeconds >= 0 else {
            throw ValidationError("WEFT_SWARM_IDLE_LEAVE=\(idleText ?? "") is not a number of seconds")
        }
        let swarm = node.map {
            SwarmGossip(
                node: $0, cluster: cluster, store: store, defaultPort: gossipPort,
                idleLeave: driverScope == .global && seeds.isEmpty ? .seconds(idleSeconds) : nil,
                keyFile: keySetup?.keyFile, logger: logger)
        }
        let router = PluginRouter(
            network: OverlayNetworkBackend(
                driver: driver, scope: driverScope, membership: swarm,
                gossipSeed: gossiping ? "\(underlay.address):\(gossipPort)" : nil, advertiseAddressConfigured: addressConfigured),
            ipam: AllocatorIpamBackend(allocator: allocator), control: control)
        let server = PluginServer(
            configuration: PluginServerConfiguration(socketPath: socket), router: router, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: server)]
        if let node {
            var timing = ClusterMaintenance<ContinuousClock>.Timing()
            timing.failedHostGrace = failedHostGrace
            services.append(.init(service: ClusterMaintenance(
                node: node, swarm: swarm, cluster: cluster, driver: driver, store: store, seeds: seeds,
                gossipPort: gossipPort, ownAddress: gossipAddress, timing: timing, clock: ContinuousClock(), logger: logger)))
        }
        let reloading = Task {
            guard let node, let keySetup, !keySetup.keys.isEmpty else { return }
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                await KeyReload.reload(node: node, from: keySetup.keyFile, logger: logger)
            }
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        reloading.cancel()
        if let node {
            await node.leave(timeout: .seconds(3))
            await node.stop()
        }
    }
}

/// The process environment, read once.
struct Environment {
    private let values: [String: String]

    init() {
        var values: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                values[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        self.values = values
    }

    subscript(_ name: String) -> String? { values[name] }

    /// A port number from the environment, nil when the variable is unset.
    func port(_ name: String) throws -> UInt16? {
        guard let text = values[name] else { return nil }
        guard let port = UInt16(text), port > 0 else { throw ValidationError("\(name)=\(text) is not a port") }
        return port
    }
}
