import ArgumentParser
import Glibc
import Logging
import WeftDaemon

/// `weft daemon`: the Docker network and IPAM driver, serving Docker's plugin API on a Unix socket.
struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run weft's Docker network and IPAM driver.",
        discussion: """
            Every option can also be set in the environment: WEFT_SOCKET, WEFT_STATE_DIR, WEFT_RUNTIME_DIR, \
            WEFT_ADVERTISE_ADDRESS, WEFT_UNDERLAY_INTERFACE, WEFT_VXLAN_PORT, WEFT_LOG_LEVEL, WEFT_DRY_RUN=1, \
            WEFT_JOIN (comma-separated), WEFT_GOSSIP_PORT, WEFT_KEY_FILE, WEFT_GOSSIP_KEY (comma-separated, primary first), WEFT_INSECURE_GOSSIP=1, WEFT_NODE_NAME, WEFT_SCOPE, WEFT_SWARM_IDLE_LEAVE, WEFT_FAILURE_DETECTION, WEFT_FAILED_HOST_GRACE; WEFT_LOG_OUTPUT=stdout logs to \
            standard output instead of standard error. \
            With --dry-run weft needs no root and changes nothing: it serves the whole API and prints each kernel \
            change it would make as the equivalent ip/bridge command.
            """
    )

    @Option(help: "The Unix socket Docker finds the plugin at.")
    var socket: String?

    @Option(help: "The root-only Unix socket `weft status` and `weft diff` ask (default <runtime-dir>/control.sock, /run/weft/control.sock).")
    var controlSocket: String?

    @Option(help: "Where Prometheus scrapes /metrics, IP:port (default 127.0.0.1:9479); none turns it off.")
    var metricsAddress: String?

    @Option(help: "Where weft keeps its state (networks, endpoints, IPAM, gossip keys).")
    var stateDir: String?

    @Option(help: "Where weft keeps runtime files; network namespaces live in <runtime-dir>/netns.")
    var runtimeDir: String?

    @Option(help: "This host's address on the underlay, the local VXLAN endpoint (default: the --underlay-interface's, else the address swarm advertised for this node last time, else the source address toward the first seed, else the first up interface's, with a warning).")
    var advertiseAddress: String?

    @Option(help: "The underlay interface (its first IPv4 address is advertised).")
    var underlayInterface: String?

    @Option(help: "The UDP port for VXLAN traffic (default 4789).")
    var vxlanPort: String?

    @Option(help: "The range IPAM pools come from when a network has no --subnet.")
    var defaultRange: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Flag(help: "Change nothing in the kernel; print what would be done.")
    var dryRun = false

    @Option(help: "A weft host to join, host[:port]; repeat for several. Seeds are retried with backoff.")
    var join: [String] = []

    @Option(help: "The gossip port, UDP and TCP, on the advertise address (default 7946).")
    var gossipPort: String?

    @Option(help: "A file of gossip keys (base64, one per line, primary first; owned by weft's user, mode 0600). Default: the state directory's gossip.key, created when this host starts a cluster.")
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

    @Option(help: "Seconds after which a failed host's endpoints and address blocks are forgotten (default 600).")
    var failedHostGrace: String?

    @Option(help: "The driver's scope: local for the socket plugin, global for the managed plugin under swarm.")
    var scope: String?

    @Option(help: "With global scope and no --join: seconds without a swarm network after which this host leaves the gossip (a node that left the swarm; default 10).")
    var swarmIdleLeave: String?

    @Option(name: .customLong("wireguard"), help: "The WireGuard of encrypted networks: auto (the kernel's when weft can use it, else wireguard-go), userspace (wireguard-go) or kernel.")
    var wireGuard: String?

    @Option(help: "How old this host's WireGuard key may get before weft rotates it (make-before-break; also on demand: weft encryption rotate): seconds, or 90m, 24h, 7d; 0 never (default 24h).")
    var encryptionKeyRotation: String?

    @Option(help: "Docker's API socket, read (GET /networks/<id>?verbose=true only) to serve swarm services' VIPs on weft networks; none serves none (default: none; the managed plugin mounts it at /run/docker.sock).")
    var dockerSocket: String?

    @Option(help: "Resilient paths: auto (when the direct path to a host fails, reach it through the third host with the best round trips) or off (default auto).")
    var relay: String?

    @Option(help: "The UDP port on which weft relays VXLAN packets for other hosts and reads its data-path probe answers (default: the VXLAN port + 1, 4790).")
    var relayPort: String?

    @Option(help: "Seconds a healed direct path must stay up before traffic leaves the relay for it (default 5).")
    var relayHoldDown: String?

    @Option(help: "Which direct paths a relay may replace: off (only failed ones; default) or latency (also those whose round trip exceeds the best relay path's by half plus 10 ms; back below a fifth plus 5 ms).")
    var pathSelection: String?

    func run() async throws {
        var flags = DaemonConfiguration.Flags()
        flags.socket = socket
        flags.controlSocket = controlSocket
        flags.metricsAddress = metricsAddress
        flags.stateDir = stateDir
        flags.runtimeDir = runtimeDir
        flags.advertiseAddress = advertiseAddress
        flags.underlayInterface = underlayInterface
        flags.vxlanPort = vxlanPort
        flags.defaultRange = defaultRange
        flags.logLevel = logLevel
        flags.dryRun = dryRun
        flags.join = join
        flags.gossipPort = gossipPort
        flags.keyFile = keyFile
        flags.insecureGossip = insecureGossip
        flags.encrypt = encrypt
        flags.nodeName = nodeName
        flags.failureDetection = failureDetection
        flags.failedHostGrace = failedHostGrace
        flags.scope = scope
        flags.swarmIdleLeave = swarmIdleLeave
        flags.wireGuard = wireGuard
        flags.encryptionKeyRotation = encryptionKeyRotation
        flags.dockerSocket = dockerSocket
        flags.relay = relay
        flags.relayPort = relayPort
        flags.relayHoldDown = relayHoldDown
        flags.pathSelection = pathSelection
        let configuration: DaemonConfiguration
        do {
            configuration = try DaemonConfiguration.resolve(
                flags, environment: ProcessEnvironment.read(), isRoot: geteuid() == 0, userID: getuid())
        } catch {
            throw ValidationError("\(error)")
        }
        LoggingSystem.bootstrap { label in
            var handler = configuration.logOutput == .stdout
                ? StreamLogHandler.standardOutput(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = configuration.logLevel
            return handler
        }
        try await Daemon(configuration: configuration, logger: Logger(label: "weft"), version: WeftVersion.current).run()
    }
}

/// The process environment, read once.
enum ProcessEnvironment {
    static func read() -> [String: String] {
        var values: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                values[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return values
    }
}
