import DockerPlugin
import Foundation
import Gossip
import Logging
import Netlink
import Testing
import WeftDaemon

/// `weft daemon`'s settings resolved in one place: flag over variable over default, strings parsed once, closed
/// choices refused naming the flag, the variable and what is allowed.
struct DaemonConfigurationTests {
    static func resolve(
        _ flags: DaemonConfiguration.Flags = .init(), environment: [String: String] = [:], isRoot: Bool = true
    ) throws(DaemonConfigurationError) -> DaemonConfiguration {
        try DaemonConfiguration.resolve(flags, environment: environment, isRoot: isRoot, userID: 1000)
    }

    @Test("defaults: the plugin socket, /var/lib/weft, /run/weft, ports 4789 and 7946, lan, local scope, info")
    func defaults() throws {
        let configuration = try Self.resolve()
        #expect(configuration.socketPath == "/run/docker/plugins/weft.sock")
        #expect(configuration.stateDirectory == "/var/lib/weft" && configuration.runtimeDirectory == "/run/weft")
        #expect(configuration.vxlanPort == 4789 && configuration.gossipPort == 7946)
        #expect(configuration.failureDetection == .lan && configuration.scope == .local && configuration.logLevel == .info)
        #expect(configuration.seeds.isEmpty && !configuration.insecureGossip && configuration.keyFile == nil)
        #expect(configuration.failedHostGrace == 600 && configuration.swarmIdleLeave == .seconds(10))
        #expect(configuration.logOutput == .stderr && !configuration.dryRun)
    }

    @Test("a dry run without root keeps its files under /tmp/weft-dry-run-<uid>")
    func unprivilegedDryRun() throws {
        var flags = DaemonConfiguration.Flags()
        flags.dryRun = true
        let configuration = try Self.resolve(flags, isRoot: false)
        #expect(configuration.socketPath == "/tmp/weft-dry-run-1000/weft.sock")
        #expect(configuration.stateDirectory == "/tmp/weft-dry-run-1000/state")
        #expect(try Self.resolve(environment: ["WEFT_DRY_RUN": "1"], isRoot: false).dryRun)
    }

    @Test("the flag wins over the variable, the variable over the default")
    func precedence() throws {
        var flags = DaemonConfiguration.Flags()
        flags.gossipPort = "7000"
        flags.join = ["192.0.2.1"]
        let environment = [
            "WEFT_GOSSIP_PORT": "7100", "WEFT_VXLAN_PORT": "4790", "WEFT_JOIN": "192.0.2.9,192.0.2.8:9000",
            "WEFT_FAILURE_DETECTION": "fast", "WEFT_SCOPE": "global", "WEFT_LOG_OUTPUT": "stdout",
            "WEFT_KEY_FILE": "/etc/weft/key", "WEFT_INSECURE_GOSSIP": "1", "WEFT_SWARM_IDLE_LEAVE": "2.5",
        ]
        let configuration = try Self.resolve(flags, environment: environment)
        #expect(configuration.gossipPort == 7000 && configuration.vxlanPort == 4790)
        #expect(configuration.seeds == [GossipAddress(ip: .v4(IPv4Address(192, 0, 2, 1)), port: 7000)])
        #expect(configuration.failureDetection == .fast && configuration.scope == .global && configuration.logOutput == .stdout)
        #expect(configuration.keyFile == "/etc/weft/key" && configuration.insecureGossip)
        #expect(configuration.swarmIdleLeave == .milliseconds(2500))
        #expect(configuration.paths == PathConfiguration(relay: .auto, relayPort: 4791, holdDown: 5, selection: .off))
        flags.relay = "off"
        flags.relayHoldDown = "2.5"
        #expect(try Self.resolve(flags, environment: ["WEFT_RELAY_PORT": "5000", "WEFT_PATH_SELECTION": "latency"]).paths
            == PathConfiguration(relay: .off, relayPort: 5000, holdDown: 2.5, selection: .latency))
        #expect(throws: DaemonConfigurationError.self) { try Self.resolve(flags, environment: ["WEFT_RELAY_PORT": "4789"]) }
        #expect(throws: DaemonConfigurationError.self) { try Self.resolve(environment: ["WEFT_RELAY": "sometimes"]) }
        let fromEnvironment = try Self.resolve(environment: environment)
        #expect(fromEnvironment.seeds == [GossipAddress(ip: .v4(IPv4Address(192, 0, 2, 9)), port: 7100), GossipAddress(ip: .v4(IPv4Address(192, 0, 2, 8)), port: 9000)])
    }

    @Test("refusals name the flag, the variable, the value and what is allowed")
    func refusals() throws {
        var flags = DaemonConfiguration.Flags()
        flags.failureDetection = "slow"
        #expect(throws: DaemonConfigurationError.invalid(
            setting: "--failure-detection (WEFT_FAILURE_DETECTION)", value: "slow", allowed: "one of lan, fast")) {
            try Self.resolve(flags)
        }
        #expect(throws: DaemonConfigurationError.invalid(
            setting: "--log-level (WEFT_LOG_LEVEL)", value: "loud",
            allowed: "one of trace, debug, info, notice, warning, error, critical")) {
            try Self.resolve(environment: ["WEFT_LOG_LEVEL": "loud"])
        }
        #expect(throws: DaemonConfigurationError.invalid(setting: "--scope (WEFT_SCOPE)", value: "cluster", allowed: "one of local, global")) {
            try Self.resolve(environment: ["WEFT_SCOPE": "cluster"])
        }
        #expect(throws: DaemonConfigurationError.invalid(setting: "--vxlan-port (WEFT_VXLAN_PORT)", value: "0", allowed: "a port from 1 to 65535")) {
            try Self.resolve(environment: ["WEFT_VXLAN_PORT": "0"])
        }
        #expect(throws: DaemonConfigurationError.invalid(setting: "--advertise-address (WEFT_ADVERTISE_ADDRESS)", value: "eth0", allowed: "an IP address")) {
            try Self.resolve(environment: ["WEFT_ADVERTISE_ADDRESS": "eth0"])
        }
        #expect(throws: DaemonConfigurationError.invalid(setting: "--join (WEFT_JOIN)", value: "a:b:c", allowed: "host[:port]")) {
            try Self.resolve(environment: ["WEFT_JOIN": "a:b:c"])
        }
        #expect(throws: DaemonConfigurationError.invalid(setting: "--swarm-idle-leave (WEFT_SWARM_IDLE_LEAVE)", value: "-1", allowed: "a number of seconds")) {
            try Self.resolve(environment: ["WEFT_SWARM_IDLE_LEAVE": "-1"])
        }
        #expect(throws: DaemonConfigurationError.invalid(setting: "--wireguard (WEFT_WIREGUARD)", value: "ipsec", allowed: "one of auto, userspace, kernel")) {
            try Self.resolve(environment: ["WEFT_WIREGUARD": "ipsec"])
        }
        #expect(try "\(Self.resolve().wireGuard)" == "auto")
        var wireGuard = DaemonConfiguration.Flags()
        wireGuard.wireGuard = "userspace"
        #expect(try "\(Self.resolve(wireGuard, environment: ["WEFT_WIREGUARD": "kernel"]).wireGuard)" == "userspace")
        #expect(DaemonConfigurationError.invalid(setting: "--scope (WEFT_SCOPE)", value: "cluster", allowed: "one of local, global").description
            == "--scope (WEFT_SCOPE): \"cluster\" is not one of local, global")
    }

    @Test("examples/systemd/weft.default resolves as the daemon reads it, and names only variables it knows")
    func systemdEnvironmentFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("examples/systemd/weft.default"), encoding: .utf8)
        var environment: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            environment[parts[0]] = parts[1]
        }
        #expect(!environment.isEmpty)
        #expect(Set(environment.keys).subtracting(DaemonConfiguration.environmentVariables).isEmpty, "\(environment.keys.sorted())")
        let configuration = try Self.resolve(environment: environment)
        #expect(configuration.advertiseAddress == IPAddress("192.0.2.11"))
        #expect(configuration.seeds.count == 2 && configuration.keyFile == "/var/lib/weft/gossip.key")
    }
}

/// `--encryption-key-rotation`: a duration like the other settings, 24 h unless given, 0 for never.
struct KeyRotationSettingTests {
    @Test("24h by default; seconds or s/m/h/d; 0 never; anything else refused naming the flag")
    func parsing() throws {
        #expect(try DaemonConfigurationTests.resolve().encryptionKeyRotation == .seconds(86_400))
        var flags = DaemonConfiguration.Flags()
        for (text, expected) in [("90", Duration.seconds(90)), ("90s", .seconds(90)), ("15m", .seconds(900)), ("12h", .seconds(43_200)), ("7d", .seconds(604_800))] {
            flags.encryptionKeyRotation = text
            #expect(try DaemonConfigurationTests.resolve(flags).encryptionKeyRotation == expected, "\(text)")
        }
        #expect(try DaemonConfigurationTests.resolve(environment: ["WEFT_ENCRYPTION_KEY_ROTATION": "0"]).encryptionKeyRotation == nil)
        for bad in ["", "h", "-1h", "1.5h", "24 h", "1w", "99999999999d"] {
            flags.encryptionKeyRotation = bad
            #expect(throws: DaemonConfigurationError.self, "\(bad)") { try DaemonConfigurationTests.resolve(flags) }
        }
        flags.encryptionKeyRotation = "soon"
        #expect(throws: DaemonConfigurationError.invalid(
            setting: "--encryption-key-rotation (WEFT_ENCRYPTION_KEY_ROTATION)", value: "soon",
            allowed: "a duration (seconds, or with s, m, h or d: 24h), at least 1 s, or 0 for never")) {
            try DaemonConfigurationTests.resolve(flags)
        }
    }
}
