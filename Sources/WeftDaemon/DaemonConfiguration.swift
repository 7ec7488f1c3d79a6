import DockerPlugin
import Gossip
import Logging
import Netlink
import Overlay

/// Everything `weft daemon` runs with, decided in one place: each setting from its command-line flag, else its
/// `WEFT_*` environment variable, else its default. Strings are parsed here, at the edge; closed choices are enums;
/// every refusal names the flag, the variable and what is allowed.
public struct DaemonConfiguration: Sendable, Equatable {
    /// How quickly a silent host is declared failed.
    public enum FailureDetection: String, Sendable, Equatable, CaseIterable {
        /// memberlist's LAN timings: probes every second, suspicion from 4 s.
        case lan
        /// Probes every 500 ms, suspicion from 2 s; for LANs whose round trips stay well under 100 ms.
        case fast
    }

    /// Where log lines go: a managed plugin's stderr reaches dockerd's log tagged as errors, so it uses stdout.
    public enum LogOutput: String, Sendable, Equatable, CaseIterable {
        case stderr
        case stdout
    }

    public var socketPath: String
    /// The control socket `weft status` and `weft diff` talk to (root only); `<runtime-dir>/control.sock` by default.
    public var controlSocketPath: String
    /// Where Prometheus scrapes `/metrics` (default 127.0.0.1:9479); nil when `none`.
    public var metricsAddress: PluginServerConfiguration.TCPAddress?
    public var stateDirectory: String
    public var runtimeDirectory: String
    public var advertiseAddress: IPAddress?
    public var underlayInterface: String?
    public var vxlanPort: UInt16
    public var defaultRange: IPv4Subnet
    public var logLevel: Logger.Level
    public var logOutput: LogOutput
    public var dryRun: Bool
    public var seeds: [GossipAddress]
    public var gossipPort: UInt16
    /// `--key-file`: the gossip keys' file; nil uses the state directory's `gossip.key`.
    public var keyFile: String?
    /// WEFT_GOSSIP_KEY, comma-separated base64 keys, primary first.
    public var environmentKeys: String?
    /// The hidden `--encrypt` (every local user can read a command line).
    public var commandLineKeys: [String]
    public var insecureGossip: Bool
    public var nodeName: String?
    public var failureDetection: FailureDetection
    /// Seconds after which a failed host's endpoints and address blocks are forgotten.
    public var failedHostGrace: Double
    public var scope: DriverScope
    /// Under global scope with no seeds: how long without a swarm network before this host leaves the gossip.
    public var swarmIdleLeave: Duration
    /// `--wireguard`: which WireGuard encrypted networks use.
    public var wireGuard: WireGuardBackendKind
    /// `--encryption-key-rotation`: how old this host's WireGuard key may get before weft replaces it; nil never.
    public var encryptionKeyRotation: Duration? = .seconds(86_400)
    /// Docker's API socket, read for swarm services' VIPs and tasks (``ServiceVIPServer``); nil serves no VIPs.
    public var dockerSocket: String?
    /// `--relay`, `--relay-port`, `--relay-hold-down`: resilient paths (``PathConfiguration``).
    public var paths = PathConfiguration()

    /// What the command line gave; nil (or empty) where it said nothing.
    public struct Flags: Sendable, Equatable {
        public var socket: String?
        public var controlSocket: String?
        public var metricsAddress: String?
        public var stateDir: String?
        public var runtimeDir: String?
        public var advertiseAddress: String?
        public var underlayInterface: String?
        public var vxlanPort: String?
        public var defaultRange: String?
        public var logLevel: String?
        public var dryRun = false
        public var join: [String] = []
        public var gossipPort: String?
        public var keyFile: String?
        public var insecureGossip = false
        public var encrypt: [String] = []
        public var nodeName: String?
        public var failureDetection: String?
        public var failedHostGrace: String?
        public var scope: String?
        public var swarmIdleLeave: String?
        public var wireGuard: String?
        public var encryptionKeyRotation: String?
        public var dockerSocket: String?
        public var relay: String?
        public var relayPort: String?
        public var relayHoldDown: String?
        public var pathSelection: String?

        public init() {}
    }

    /// Every environment variable the daemon reads.
    public static let environmentVariables: Set<String> = [
        "WEFT_SOCKET", "WEFT_CONTROL_SOCKET", "WEFT_METRICS_ADDRESS", "WEFT_STATE_DIR", "WEFT_RUNTIME_DIR", "WEFT_ADVERTISE_ADDRESS", "WEFT_UNDERLAY_INTERFACE",
        "WEFT_VXLAN_PORT", "WEFT_DEFAULT_RANGE", "WEFT_LOG_LEVEL", "WEFT_LOG_OUTPUT", "WEFT_DRY_RUN", "WEFT_JOIN",
        "WEFT_GOSSIP_PORT", "WEFT_KEY_FILE", "WEFT_GOSSIP_KEY", "WEFT_INSECURE_GOSSIP", "WEFT_NODE_NAME",
        "WEFT_FAILURE_DETECTION", "WEFT_FAILED_HOST_GRACE", "WEFT_SCOPE", "WEFT_SWARM_IDLE_LEAVE",
        "WEFT_WIREGUARD", "WEFT_ENCRYPTION_KEY_ROTATION", "WEFT_DOCKER_SOCKET", "WEFT_RELAY", "WEFT_RELAY_PORT", "WEFT_RELAY_HOLD_DOWN", "WEFT_PATH_SELECTION",
    ]

    /// Resolves the configuration from the command line, the environment and the defaults.
    /// - Parameters:
    ///   - userID: the real user; a dry run without root keeps its files under /tmp/weft-dry-run-<uid>.
    public static func resolve(
        _ flags: Flags, environment: [String: String], isRoot: Bool, userID: UInt32
    ) throws(DaemonConfigurationError) -> DaemonConfiguration {
        let settings = Settings(flags: flags, environment: environment)
        let dryRun = flags.dryRun || environment["WEFT_DRY_RUN"] == "1"
        let unprivileged = "/tmp/weft-dry-run-\(userID)"
        let gossipPort = try settings.port(flags.gossipPort, "--gossip-port", "WEFT_GOSSIP_PORT") ?? 7946
        let seedTexts = flags.join.isEmpty
            ? (environment["WEFT_JOIN"]?.split(separator: ",").map(String.init) ?? []) : flags.join
        var seeds: [GossipAddress] = []
        for text in seedTexts {
            guard let seed = GossipAddress(parsing: text, defaultPort: gossipPort) else {
                throw .invalid(setting: "--join (WEFT_JOIN)", value: text, allowed: "host[:port]")
            }
            seeds.append(seed)
        }
        var advertise: IPAddress?
        if let text = settings.text(flags.advertiseAddress, "WEFT_ADVERTISE_ADDRESS") {
            guard let address = IPAddress(text) else {
                throw .invalid(setting: "--advertise-address (WEFT_ADVERTISE_ADDRESS)", value: text, allowed: "an IP address")
            }
            advertise = address
        }
        let rangeText = settings.text(flags.defaultRange, "WEFT_DEFAULT_RANGE") ?? AllocatorConfiguration.standardRange.description
        let range: IPv4Subnet
        do { range = try IPv4Subnet(parsing: rangeText) } catch {
            throw .invalid(setting: "--default-range (WEFT_DEFAULT_RANGE)", value: rangeText, allowed: "an IPv4 subnet (\(error))")
        }
        let graceText = settings.text(flags.failedHostGrace, "WEFT_FAILED_HOST_GRACE")
        let grace = try graceText.map { text throws(DaemonConfigurationError) -> Double in
            guard let seconds = Double(text), seconds >= 0, seconds.isFinite else {
                throw .invalid(setting: "--failed-host-grace (WEFT_FAILED_HOST_GRACE)", value: text, allowed: "a number of seconds")
            }
            return seconds
        } ?? 600
        let idleText = settings.text(flags.swarmIdleLeave, "WEFT_SWARM_IDLE_LEAVE")
        let idle = try idleText.map { text throws(DaemonConfigurationError) -> Double in
            guard let seconds = Double(text), seconds >= 0, seconds.isFinite, seconds < 1e9 else {
                throw .invalid(setting: "--swarm-idle-leave (WEFT_SWARM_IDLE_LEAVE)", value: text, allowed: "a number of seconds")
            }
            return seconds
        } ?? 10
        let rotationText = settings.text(flags.encryptionKeyRotation, "WEFT_ENCRYPTION_KEY_ROTATION")
        let rotation = try rotationText.map { text throws(DaemonConfigurationError) -> Duration? in
            guard let duration = Self.duration(text) else {
                throw .invalid(setting: "--encryption-key-rotation (WEFT_ENCRYPTION_KEY_ROTATION)", value: text,
                               allowed: "a duration (seconds, or with s, m, h or d: 24h), at least 1 s, or 0 for never")
            }
            return duration == .zero ? nil : duration
        } ?? .seconds(86_400)
        let runtimeDirectory = settings.text(flags.runtimeDir, "WEFT_RUNTIME_DIR") ?? "/run/weft"
        var configuration = DaemonConfiguration(
            socketPath: settings.text(flags.socket, "WEFT_SOCKET")
                ?? (dryRun && !isRoot ? "\(unprivileged)/weft.sock" : PluginServerConfiguration.defaultSocketPath),
            controlSocketPath: settings.text(flags.controlSocket, "WEFT_CONTROL_SOCKET")
                ?? (dryRun && !isRoot ? "\(unprivileged)/control.sock" : "\(runtimeDirectory)/control.sock"),
            metricsAddress: try settings.metricsAddress(flags.metricsAddress),
            stateDirectory: settings.text(flags.stateDir, "WEFT_STATE_DIR") ?? (dryRun ? "\(unprivileged)/state" : "/var/lib/weft"),
            runtimeDirectory: runtimeDirectory,
            advertiseAddress: advertise,
            underlayInterface: settings.text(flags.underlayInterface, "WEFT_UNDERLAY_INTERFACE"),
            vxlanPort: try settings.port(flags.vxlanPort, "--vxlan-port", "WEFT_VXLAN_PORT") ?? 4789,
            defaultRange: range,
            logLevel: try settings.choice(
                flags.logLevel, "--log-level", "WEFT_LOG_LEVEL", default: .info, from: Logger.Level.allCases),
            logOutput: try settings.choice(nil, "WEFT_LOG_OUTPUT", "WEFT_LOG_OUTPUT", default: .stderr, from: LogOutput.allCases),
            dryRun: dryRun,
            seeds: seeds,
            gossipPort: gossipPort,
            keyFile: settings.text(flags.keyFile, "WEFT_KEY_FILE"),
            environmentKeys: environment["WEFT_GOSSIP_KEY"],
            commandLineKeys: flags.encrypt,
            insecureGossip: flags.insecureGossip || environment["WEFT_INSECURE_GOSSIP"] == "1",
            nodeName: settings.text(flags.nodeName, "WEFT_NODE_NAME"),
            failureDetection: try settings.choice(
                flags.failureDetection, "--failure-detection", "WEFT_FAILURE_DETECTION", default: .lan,
                from: FailureDetection.allCases),
            failedHostGrace: grace,
            scope: try settings.choice(flags.scope, "--scope", "WEFT_SCOPE", default: .local, from: [DriverScope.local, .global]),
            swarmIdleLeave: .milliseconds(Int64(idle * 1000)),
            wireGuard: try settings.choice(
                flags.wireGuard, "--wireguard", "WEFT_WIREGUARD", default: .auto,
                from: [WireGuardBackendKind.auto, .userspace, .kernel]),
            encryptionKeyRotation: rotation,
            dockerSocket: settings.text(flags.dockerSocket, "WEFT_DOCKER_SOCKET").flatMap { $0 == "none" ? nil : $0 })
        configuration.paths = PathConfiguration(
            relay: try settings.choice(flags.relay, "--relay", "WEFT_RELAY", default: .auto, from: PathConfiguration.Relay.allCases),
            // By default the port after VXLAN's: 4790 beside 4789.
            relayPort: try settings.port(flags.relayPort, "--relay-port", "WEFT_RELAY_PORT")
                ?? (configuration.vxlanPort == .max ? configuration.vxlanPort - 1 : configuration.vxlanPort + 1),
            holdDown: try settings.text(flags.relayHoldDown, "WEFT_RELAY_HOLD_DOWN").map { text throws(DaemonConfigurationError) -> Double in
                guard let seconds = Double(text), seconds >= 0, seconds <= 3600 else {
                    throw .invalid(setting: "--relay-hold-down (WEFT_RELAY_HOLD_DOWN)", value: text, allowed: "a number of seconds up to 3600")
                }
                return seconds
            } ?? 5,
            selection: try settings.choice(
                flags.pathSelection, "--path-selection", "WEFT_PATH_SELECTION", default: .off, from: PathConfiguration.Selection.allCases))
        if configuration.paths.relayPort == configuration.vxlanPort || configuration.paths.relayPort == gossipPort {
            throw .invalid(setting: "--relay-port (WEFT_RELAY_PORT)", value: "\(configuration.paths.relayPort)",
                           allowed: "a port other than the VXLAN and gossip ports")
        }
        return configuration
    }

    /// `90`, `90s`, `15m`, `24h`, `7d`: a whole number of seconds, minutes, hours or days, at most ten years;
    /// nil for anything else.
    static func duration(_ text: String) -> Duration? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = digits.last, let factor = units[last] {
            unit = factor
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int64(digits), value >= 0,
            value <= 315_360_000 / unit
        else { return nil }
        return .seconds(value * unit)
    }

    /// A flag's value, else its variable's.
    private struct Settings {
        let flags: Flags
        let environment: [String: String]

        func text(_ flag: String?, _ variable: String) -> String? { flag ?? environment[variable] }

        /// `host:port` (an IPv6 host in brackets), or `none`.
        func metricsAddress(_ flag: String?) throws(DaemonConfigurationError) -> PluginServerConfiguration.TCPAddress? {
            let text = self.text(flag, "WEFT_METRICS_ADDRESS") ?? "127.0.0.1:9479"
            guard text != "none" else { return nil }
            let invalid = DaemonConfigurationError.invalid(
                setting: "--metrics-address (WEFT_METRICS_ADDRESS)", value: text, allowed: "IP:port, [IPv6]:port or none")
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { throw invalid }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard IPAddress(host) != nil else { throw invalid }
            return PluginServerConfiguration.TCPAddress(host: host, port: Int(port))
        }

        func port(_ flag: String?, _ name: String, _ variable: String) throws(DaemonConfigurationError) -> UInt16? {
            guard let text = text(flag, variable) else { return nil }
            guard let port = UInt16(text), port > 0 else {
                throw .invalid(setting: "\(name) (\(variable))", value: text, allowed: "a port from 1 to 65535")
            }
            return port
        }

        func choice<Value: RawRepresentable>(
            _ flag: String?, _ name: String, _ variable: String, default value: Value, from allowed: [Value]
        ) throws(DaemonConfigurationError) -> Value where Value.RawValue == String {
            guard let text = text(flag, variable) else { return value }
            guard let chosen = allowed.first(where: { $0.rawValue == text }) else {
                let setting = name == variable ? variable : "\(name) (\(variable))"
                throw .invalid(setting: setting, value: text, allowed: "one of " + allowed.map(\.rawValue).joined(separator: ", "))
            }
            return chosen
        }
    }
}

/// A daemon setting that cannot be used, named with its flag and variable.
public enum DaemonConfigurationError: Error, Equatable, CustomStringConvertible {
    case invalid(setting: String, value: String, allowed: String)

    public var description: String {
        switch self {
        case .invalid(let setting, let value, let allowed): "\(setting): \"\(value)\" is not \(allowed)"
        }
    }
}
