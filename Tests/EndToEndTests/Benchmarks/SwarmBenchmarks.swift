import Foundation
import TestSupport
import Testing

/// `make bench` only (WEFT_BENCH=1): weft as the managed plugin (`weft:latest`, from `make plugin-dir`) against
/// Docker's built-in overlay driver, in the same three-node swarm, in the same run, interleaved (ABBA) so that a
/// drift of the machine's load touches both alike. Issue 6: service convergence and the datapath.
@Suite(
    "Benchmark: weft's managed plugin against the built-in overlay in a swarm (convergence, datapath)",
    .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["WEFT_BENCH"] == "1" && Privileges.canRunEndToEndTests,
             "a benchmark: run by `make bench`"),
    .timeLimit(.minutes(20))
)
struct SwarmBenchmarks {
    static let weftNetwork = "wnet"
    static let overlayNetwork = "onet"

    /// Three engines, the plugin on each, a swarm, a weft swarm network and a built-in overlay one (both
    /// attachable, distinct subnets); runs `body`; then removes services, networks and plugins, and checks that
    /// no weft network is left.
    static func withSwarm(_ body: (Cluster) async throws -> Void) async throws {
        let directory = try ManagedPlugin.directory()
        try await Cluster.with(hosts: 3) { cluster in
            let manager = cluster["h1"]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for host in cluster.hosts {
                    group.addTask { _ = try await ManagedPlugin.install(on: host, from: directory, logLevel: "info") }
                }
                try await group.waitForAll()
            }
            try await Swarm.form(cluster)
            try await manager.docker(
                "network", "create", "-d", ManagedPlugin.name, "--attachable", "--subnet", "10.80.0.0/24", Self.weftNetwork)
            try await manager.docker(
                "network", "create", "-d", "overlay", "--attachable", "--subnet", "10.81.0.0/24", Self.overlayNetwork)

            try await body(cluster)

            let services = try await manager.docker("service", "ls", "-q").split(separator: "\n").map(String.init)
            if !services.isEmpty { try await manager.docker(["service", "rm"] + services) }
            try await Swarm.removeNetworks([Self.weftNetwork, Self.overlayNetwork], in: cluster)
            for host in cluster.hosts { try await ManagedPlugin.uninstall(from: host) }
        }
    }

    static func seconds(_ values: [Double]) -> String { values.map { String(format: "%.2f s", $0) }.joined(separator: ", ") }
    static func rates(_ values: [Double]) -> String { values.map { String(format: "%.2f", $0) }.joined(separator: ", ") }

    /// weft first in rounds 0, 3, 4, 7, …; the overlay first in rounds 1, 2, 5, 6, …: A B B A A B B A.
    static func weftFirst(_ round: Int) -> Bool { round % 4 == 0 || round % 4 == 3 }

    // MARK: Convergence

    static let convergenceRounds = 5
    static let replicas = 6

    @Test("convergence: `docker service create` of 6 replicas until every task reaches every other, weft against the built-in overlay")
    func convergence() async throws {
        try await Self.withSwarm { cluster in
            var weft: [Double] = []
            var overlay: [Double] = []
            func round(_ service: String, network: String) async throws -> Double {
                let duration = try await Swarm.runService(service, replicas: Self.replicas, network: network, in: cluster)
                try await Swarm.removeService(service, in: cluster)
                return duration.seconds
            }
            // ABBA over pairs of rounds: weft, overlay, overlay, weft, weft, overlay, …
            for index in 0..<(2 * Self.convergenceRounds) {
                let pair = index / 2
                let weftNow = (index % 2 == 0) == Self.weftFirst(pair)
                if weftNow {
                    weft.append(try await round("cw\(pair)", network: Self.weftNetwork))
                } else {
                    overlay.append(try await round("co\(pair)", network: Self.overlayNetwork))
                }
            }
            let weftMedian = OverlayBenchmarks.quantile(weft, 0.5)
            let overlayMedian = OverlayBenchmarks.quantile(overlay, 0.5)
            print("""
                swarm convergence (3 nodes, \(Self.replicas) replicas spread over them, \(Self.convergenceRounds) rounds each, ABBA; \
                `service create` until every task has pinged every other, then `service rm` and its tasks gone):
                  weft (managed plugin):  median \(String(format: "%.2f s", weftMedian)) (\(Self.seconds(weft)))
                  built-in overlay:       median \(String(format: "%.2f s", overlayMedian)) (\(Self.seconds(overlay)))
                  ratio weft / overlay: \(String(format: "%.2f", weftMedian / overlayMedian))  (goal: <= 1.0)
                """)
        }
    }

    // MARK: Datapath

    static let datapathRounds = 5

    @Test("datapath: iperf3 between tasks on two nodes, weft against the built-in overlay, and host to host over the raw underlay")
    func datapath() async throws {
        try await Self.withSwarm { cluster in
            let (manager, a, b) = (cluster["h1"], cluster["h1"], cluster["h2"])
            try await TestImage.importIperf3Image(
                into: cluster.hosts, directory: cluster.directory.appendingPathComponent("iperf3-image"))
            let nodeA = try await a.docker("info", "--format", "{{.Swarm.NodeID}}")
            let nodeB = try await b.docker("info", "--format", "{{.Swarm.NodeID}}")

            // Per network: an iperf3 server task on A, a client task on B.
            struct Pair { let server: Swarm.ServiceTask; let client: Swarm.ServiceTask; let mtu: String }
            func pair(on network: String, tag: String) async throws -> Pair {
                for (role, node, command) in [("server", nodeA, ["iperf3", "-s", "--forceflush"]), ("client", nodeB, ["sleep", "3600"])] {
                    try await manager.docker(
                        ["service", "create", "--detach", "--no-resolve-image", "--name", "\(tag)-\(role)", "--constraint",
                         "node.id==\(node)", "--network", network, TestImage.iperf3Reference] + command)
                }
                let server = try await Self.onlyTask(of: "\(tag)-server", network: network, in: cluster)
                let client = try await Self.onlyTask(of: "\(tag)-client", network: network, in: cluster)
                #expect(server.host === a && client.host === b, "\(tag): server \(server), client \(client)")
                try await Poll.until("\(tag)'s iperf3 server to listen", timeout: .seconds(20), interval: .milliseconds(50)) {
                    try await a.dockerResult(["logs", server.container]).stdout.contains("Server listening")
                }
                try await Swarm.pingMatrix([client, server], service: tag)
                // The task's interface on the network: the one with its address.
                let mtu = try await b.docker(
                    "exec", client.container, "sh", "-c",
                    "for i in /sys/class/net/*; do ip -o -4 addr show dev ${i##*/} | grep -q ' \(client.address)/' && cat $i/mtu; done; true")
                return Pair(server: server, client: client, mtu: mtu)
            }
            let weftPair = try await pair(on: Self.weftNetwork, tag: "bw")
            let overlayPair = try await pair(on: Self.overlayNetwork, tag: "bo")
            let hostServer = try a.spawn("iperf3-server", [Tools.path("iperf3"), "-s", "--forceflush"])
            try await Poll.until("the host's iperf3 server to listen", timeout: .seconds(20), interval: .milliseconds(50)) {
                hostServer.log().contains("Server listening")
            }

            func overTasks(_ pair: Pair) async throws -> Double {
                try OverlayBenchmarks.gigabits(try await b.docker(
                    ["exec", pair.client.container, "iperf3", "-c", pair.server.address, "-t", "\(OverlayBenchmarks.iperfSeconds)", "-J"],
                    timeout: .seconds(60)))
            }
            func overUnderlay() async throws -> Double {
                let result = try await b.run(
                    [Tools.path("iperf3"), "-c", a.underlayAddress, "-t", "\(OverlayBenchmarks.iperfSeconds)", "-J"], timeout: .seconds(60))
                return try OverlayBenchmarks.gigabits(try result.check().stdout)
            }
            var weft: [Double] = []
            var overlay: [Double] = []
            var underlay: [Double] = []
            // weft and the overlay ABBA; the underlay first in even rounds and last in odd ones.
            for round in 0..<Self.datapathRounds {
                if round.isMultiple(of: 2) { underlay.append(try await overUnderlay()) }
                if round.isMultiple(of: 2) {
                    weft.append(try await overTasks(weftPair))
                    overlay.append(try await overTasks(overlayPair))
                } else {
                    overlay.append(try await overTasks(overlayPair))
                    weft.append(try await overTasks(weftPair))
                }
                if !round.isMultiple(of: 2) { underlay.append(try await overUnderlay()) }
            }
            let devices = try await Self.vxlanDevices(on: a)
            let (weftMedian, overlayMedian, underlayMedian) = (
                OverlayBenchmarks.quantile(weft, 0.5), OverlayBenchmarks.quantile(overlay, 0.5), OverlayBenchmarks.quantile(underlay, 0.5)
            )
            func ratio(_ x: Double, _ y: Double) -> String { String(format: "%.2f", x / y) }
            print("""
                swarm datapath (iperf3 TCP, \(OverlayBenchmarks.iperfSeconds) s per run, \(Self.datapathRounds) runs each, interleaved; \
                a server task on h1, a client task on h2, 3-node swarm over a veth underlay):
                  weft (managed plugin, task MTU \(weftPair.mtu)): median \(String(format: "%.2f", weftMedian)) Gbit/s (\(Self.rates(weft)))
                  built-in overlay (task MTU \(overlayPair.mtu)):  median \(String(format: "%.2f", overlayMedian)) Gbit/s (\(Self.rates(overlay)))
                  host to host, raw underlay (MTU 1500):  median \(String(format: "%.2f", underlayMedian)) Gbit/s (\(Self.rates(underlay)))
                  ratio weft / overlay: \(ratio(weftMedian, overlayMedian))  (goal: >= 1.0)
                  weft / underlay: \(ratio(weftMedian, underlayMedian)), overlay / underlay: \(ratio(overlayMedian, underlayMedian))  \
                (reference, this machine kind: overlay 8.4 against 10.7 Gbit/s on the underlay, 0.79)
                  h1's VXLAN devices (both under a bridge, MTU 1450): weft: \(devices.weft); overlay: \(devices.overlay)
                """)
            await hostServer.terminate(grace: .seconds(2))
        }
    }

    /// The attributes (`ip -d link`'s `vxlan id …` line) of weft's VXLAN device for the weft network and of
    /// Docker's for the overlay network on `host`: weft's in its namespace under the plugin's propagated mount,
    /// Docker's in `<exec root>/netns/1-<first 10 characters of the network ID>`.
    static func vxlanDevices(on host: TestHost) async throws -> (weft: String, overlay: String) {
        let weftDirectory = try await ManagedPlugin.namespaceDirectory(on: host)
        let overlayID = try await host.docker("network", "inspect", "--format", "{{.Id}}", Self.overlayNetwork)
        let overlayNamespace = host.directory.appendingPathComponent("exec/netns/1-\(overlayID.prefix(10))").path
        func attributes(_ namespaces: String) async throws -> String {
            let output = try await host.run([Tools.sh, "-c", "for n in \(namespaces); do nsenter --net=$n ip -d link show type vxlan; done"]).check().output
            let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            return lines.first { $0.hasPrefix("vxlan id") } ?? "none found in \(namespaces)"
        }
        return (try await attributes("\(weftDirectory)/*"), try await attributes(overlayNamespace))
    }

    /// The one running task of a single-replica service (bounded wait).
    static func onlyTask(of service: String, network: String, in cluster: Cluster) async throws -> Swarm.ServiceTask {
        var found: [Swarm.ServiceTask] = []
        try await Poll.until("\(service)'s task to run", timeout: .seconds(90), interval: .milliseconds(250)) {
            found = try await Swarm.tasks(of: service, network: network, in: cluster)
            return found.count == 1 && !found[0].address.isEmpty
        }
        return found[0]
    }
}
