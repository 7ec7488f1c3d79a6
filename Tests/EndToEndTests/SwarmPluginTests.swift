import Foundation
import Glibc
import TestSupport
import Testing

/// weft as Docker's managed (v2) plugin in a swarm: three engines form a swarm, each creates and enables the
/// plugin from the directory `make plugin` builds (config.json + rootfs), the manager creates a swarm network on
/// it, and a service's tasks on different nodes reach each other. The same service on Docker's built-in overlay
/// driver, in the same swarm, is the reference.
@Suite(
    "End to end: weft as a managed plugin in a three-node swarm",
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(10)),
    .serialized
)
struct SwarmPluginTests {
    static let replicas = 6

    @Test("service names on a weft network: web (busybox httpd, 3 replicas) answers http://web/ 30 times in a row from every client task, from more than one task; scaled to 1, only that task answers; removed, the name answers no more; nothing left")
    func serviceVIPs() async throws {
        let directory = try ManagedPlugin.directory()
        try await Cluster.with(hosts: 3) { cluster in
            let manager = cluster["h1"]
            for host in cluster.hosts { _ = try await ManagedPlugin.install(on: host, from: directory) }
            try await Swarm.form(cluster)
            try await manager.docker(
                "network", "create", "-d", ManagedPlugin.name, "--attachable", "--subnet", "10.34.0.0/24", "vnet")
            try await manager.docker(
                "service", "create", "--detach", "--no-resolve-image", "--name", "web", "--replicas", "3", "--network", "vnet",
                TestImage.reference, "httpd", "-f", "-p", "80", "-h", "/etc")
            try await manager.docker(
                "service", "create", "--detach", "--no-resolve-image", "--name", "client", "--replicas", "3", "--network", "vnet",
                TestImage.reference, "sleep", "600")
            let web = try await Swarm.waitForTasks(of: "web", count: 3, network: "vnet", in: cluster)
            let clients = try await Swarm.waitForTasks(of: "client", count: 3, network: "vnet", in: cluster)
            let vip = try await manager.docker(
                "service", "inspect", "--format", "{{range .Endpoint.VirtualIPs}}{{.Addr}}{{end}}", "web")
            print("e2e swarm VIPs: web's VIP \(vip); tasks \(web.map(\.description).joined(separator: ", "))")

            /// One `wget http://web/hostname` from `client`: the answering task's hostname (its container's short
            /// ID), or nil when nothing answers within 2 s (busybox's own `wget -T` crashes in this image).
            func ask(_ client: Swarm.ServiceTask) async throws -> String? {
                let result = try await client.host.dockerResult(
                    ["exec", client.container, "timeout", "2", "wget", "-qO-", "http://web/hostname"], timeout: .seconds(10))
                return result.succeeded && !result.output.isEmpty ? result.output : nil
            }
            let clock = ContinuousClock()
            let created = clock.now
            for client in clients {
                try await Poll.until("\(client) to reach http://web/", timeout: .seconds(60), interval: .milliseconds(250)) {
                    try await ask(client) != nil
                }
            }
            print("e2e swarm VIPs: every client reached http://web/ \((clock.now - created).milliseconds) ms after the tasks ran")
            let webIDs = Set(web.map { String($0.container.prefix(12)) })
            var everyAnswer: Set<String> = []
            for client in clients {
                var answers: [String] = []
                for attempt in 1...30 {
                    let answer = try await ask(client)
                    #expect(answer != nil, "\(client): attempt \(attempt) of http://web/ got no answer")
                    if let answer { answers.append(answer) }
                }
                #expect(Set(answers).isSubset(of: webIDs), "\(client) got answers from outside web: \(Set(answers))")
                #expect(Set(answers).count > 1, "\(client): every answer from one task: \(Set(answers))")
                everyAnswer.formUnion(answers)
            }
            print("e2e swarm VIPs: 3 clients × 30 answers, from \(everyAnswer.count) of web's 3 tasks")

            let scaling = clock.now
            try await manager.docker("service", "scale", "--detach", "web=1")
            let one = try #require(try await Swarm.waitForTasks(of: "web", count: 1, network: "vnet", in: cluster).first)
            let remaining = String(one.container.prefix(12))
            for client in clients {
                var inARow = 0
                try await Poll.until("\(client) to be answered only by \(one)", timeout: .seconds(30), interval: .milliseconds(100)) {
                    inARow = try await ask(client) == remaining ? inARow + 1 : 0
                    return inARow == 5
                }
            }

            print("e2e swarm VIPs: scaled to 1, only \(one) answered 5 times in a row at every client \((clock.now - scaling).milliseconds) ms after the scale")
            let removing = clock.now
            try await Swarm.removeService("web", in: cluster)
            for client in clients {
                var inARow = 0
                try await Poll.until("http://web/ to stop answering \(client)", timeout: .seconds(30), interval: .milliseconds(100)) {
                    inARow = try await ask(client) == nil ? inARow + 1 : 0
                    return inARow == 3
                }
            }
            print("e2e swarm VIPs: removed, http://web/ failed 3 times in a row at every client \((clock.now - removing).milliseconds) ms after service rm (with the wait for web's containers to go, and up to 2 s per failed wget)")

            try await Swarm.removeService("client", in: cluster)
            try await Swarm.removeNetworks(["vnet"], in: cluster)
            for host in cluster.hosts { try await ManagedPlugin.uninstall(from: host) }
        }
    }

    @Test("swarm of three; the plugin answers within 10 s of enabling; a swarm network and a 6-replica service: every task reaches every other, as on the built-in overlay; scaled to 12 and to 3; a plugin killed and restarted loses no ping; a dual-stack network on weft's IPAM gives every task both addresses, reached by ping and ping -6; an encrypted network (--opt encrypted) carries its tasks' traffic across nodes only inside WireGuard; a node that leaves the swarm leaves weft's gossip and comes back with it; gossip encrypted; nothing left")
    func swarmService() async throws {
        let directory = try ManagedPlugin.directory()
        try await Cluster.with(hosts: 3) { cluster in
            let manager = cluster["h1"]
            // The plugin first: a node reports its plugins to the managers, and the scheduler places a task only
            // on nodes that have its network's driver.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for host in cluster.hosts {
                    group.addTask {
                        let answered = try await ManagedPlugin.install(on: host, from: directory)
                        print("e2e \(host.name): plugin answered GetCapabilities \(answered.milliseconds) ms after enable began")
                        #expect(answered < .seconds(10))
                    }
                }
                try await group.waitForAll()
            }
            try await Swarm.form(cluster)

            try await manager.docker(
                "network", "create", "-d", ManagedPlugin.name, "--attachable", "--subnet", "10.30.0.0/24", "net")
            #expect(try await manager.docker("network", "inspect", "--format", "{{.Scope}} {{.Driver}}", "net")
                == "swarm \(ManagedPlugin.name)")
            let weft = try await Swarm.runService("web", replicas: Self.replicas, network: "net", in: cluster)
            // No node was given a seed: the workers joined weft's gossip through the seed AllocateNetwork put in
            // the network's options.
            for host in cluster.hosts {
                let members = try await ManagedPlugin.gossipMembers(seenBy: host)
                #expect(members.count == cluster.hosts.count, "\(host.name)'s weft sees \(members)")
            }
            // DiscoverNew told each weft the address swarm advertises for its node (the same it chose itself).
            for host in cluster.hosts {
                let state = try await Command.run([PackagePaths.weftBinary, "state", "--state-dir", host.weftStateDirectory]).check().output
                #expect(state.contains("swarm advertises this node at \(host.underlayAddress)"), "\(host.name): \(state)")
            }
            // The gossip is encrypted with the manager's key, which reached the workers in the network's options
            // with no operator action: every node saved it as its primary. A query without the key learns nothing.
            let managerKey = try #require(try ManagedPlugin.primaryKey(of: manager))
            for host in cluster.hosts {
                #expect(try ManagedPlugin.primaryKey(of: host) == managerKey, "\(host.name)'s primary gossip key is not the manager's")
            }
            let plaintext = try await manager.run([
                PackagePaths.weftBinary, "gossip", "members", "--peer", "\(manager.underlayAddress):\(ManagedPlugin.gossipPort)",
            ])
            #expect(!plaintext.succeeded && plaintext.stderr.contains("encrypted"), "a plaintext query: \(plaintext.stderr)")

            // Scale up: the new tasks reach every task; scale down: the tasks that went leave every other
            // node's kernel (the neighbour entries weft programs), and those left still reach each other.
            try await manager.docker("service", "scale", "--detach", "web=12")
            let twelve = try await Swarm.waitForTasks(of: "web", count: 12, network: "net", in: cluster)
            try await Swarm.pingMatrix(twelve, service: "web")
            try await manager.docker("service", "scale", "--detach", "web=3")
            let three = try await Swarm.waitForTasks(of: "web", count: 3, network: "net", in: cluster)
            for host in cluster.hosts {
                let remote = Set(three.filter { $0.host !== host }.map(\.address))
                try await Poll.until("\(host.name)'s weft to keep neighbour entries for exactly \(remote.sorted())", timeout: .seconds(30), interval: .milliseconds(250)) {
                    try await ManagedPlugin.neighbourAddresses(on: host) == remote
                }
            }
            try await Swarm.pingMatrix(three, service: "web")

            // kill -9 of h2's plugin while a task on h1 pings one on h2: Docker restarts the plugin, weft's
            // namespaces (in the propagated mount, so in the host's mount namespace) survive it, no ping is lost,
            // and the restarted weft serves a new task.
            let h2 = cluster["h2"]
            let source = try #require(three.first { $0.host === manager })
            let target = try #require(three.first { $0.host === h2 })
            let pinging = Task {
                try await manager.docker(
                    ["exec", source.container, "ping", "-c", "25", "-i", "0.2", "-W", "1", target.address], timeout: .seconds(30))
            }
            let pluginCgroup = HostCgroup(name: try await ManagedPlugin.id(on: h2))
            let killed = pluginCgroup.pids()
            #expect(!killed.isEmpty, "no process in h2's plugin cgroup \(pluginCgroup.name)")
            for pid in killed { kill(pid, SIGKILL) }
            try await Poll.until("Docker to restart h2's plugin", timeout: .seconds(20), interval: .milliseconds(100)) {
                let now = pluginCgroup.pids()
                return !now.isEmpty && now.isDisjoint(with: killed)
            }
            try await ManagedPlugin.waitUntilAnswering(on: h2)
            let pings = try await pinging.value
            #expect(pings.contains(" 0% packet loss"), "pings across h2's plugin restart: \(pings)")
            try await manager.docker("service", "scale", "--detach", "web=4")
            let four = try await Swarm.waitForTasks(of: "web", count: 4, network: "net", in: cluster)
            // The restarted weft has no seed of its own (the swarm's seed came in CreateNetwork, which Docker does
            // not replay), so it relearns the cluster only when a peer's push/pull reaches it (memberlist's 30 s
            // interval); until then it can withdraw remote entries (seen once: h3's task could not reach h2's for
            // over 30 s). Hence the long bound here; the time taken is printed.
            let restarted = ContinuousClock().now
            try await Swarm.pingMatrix(four, service: "web", timeout: .seconds(120))
            print("e2e swarm: after h2's plugin restart, every task reached every other in \((ContinuousClock().now - restarted).milliseconds) ms")

            // The reference: the built-in overlay, same swarm, same service.
            try await manager.docker("network", "create", "-d", "overlay", "--attachable", "--subnet", "10.31.0.0/24", "ovl")
            let overlay = try await Swarm.runService("ref", replicas: Self.replicas, network: "ovl", in: cluster)
            print("e2e swarm: service create until every task reaches every other: weft \(weft.milliseconds) ms, built-in overlay \(overlay.milliseconds) ms")

            // weft as the swarm network's IPAM driver too: the manager's weft allocates every task's address for
            // swarm, and each node's weft takes the address swarm hands it.
            try await manager.docker(
                "network", "create", "-d", ManagedPlugin.name, "--ipam-driver", ManagedPlugin.name, "--attachable",
                "--subnet", "10.32.0.0/24", "ipamnet")
            let viaWeftIPAM = try await Swarm.runService("ipam", replicas: 3, network: "ipamnet", in: cluster)
            let ipamTasks = try await Swarm.tasks(of: "ipam", network: "ipamnet", in: cluster)
            let ipamAddresses = ipamTasks.map(\.address)
            #expect(Set(ipamAddresses).count == 3 && ipamAddresses.allSatisfy { $0.hasPrefix("10.32.0.") }, "\(ipamAddresses)")
            print("e2e swarm: a service on weft's IPAM: every task reached every other \(viaWeftIPAM.milliseconds) ms after service create")
            try await Swarm.checkDualStack(in: cluster)
            try await Swarm.checkEncrypted(in: cluster, plain: four)

            // examples/swarm/stack.yml as a user deploys it: the client task reaches web's tasks by name.
            let stackFile = PackagePaths.root.appendingPathComponent("examples/swarm/stack.yml").path
            var stackEnvironment = manager.dockerEnvironment
            stackEnvironment["WEFT_EXAMPLE_IMAGE"] = TestImage.reference
            try await Command.run(
                [Tools.docker, "--host", "unix://\(manager.dockerSocket)", "stack", "deploy", "--compose-file", stackFile, "demo"],
                environment: stackEnvironment, timeout: .seconds(60)).check()
            _ = try await Swarm.waitForTasks(of: "demo_web", count: 3, network: "demo_app", in: cluster)
            let client = try #require(try await Swarm.waitForTasks(of: "demo_client", count: 1, network: "demo_app", in: cluster).first)
            var answers: Set<String> = []
            try await Poll.until("the stack's client to reach web by name from every web task", timeout: .seconds(60), interval: .milliseconds(200)) {
                let result = try await client.host.dockerResult(["exec", client.container, "wget", "-qO-", "http://web/hostname"])
                if result.succeeded, !result.output.isEmpty { answers.insert(result.output) }
                return answers.count == 3
            }
            for service in ["demo_web", "demo_client"] { try await Swarm.removeService(service, in: cluster) }
            try await Swarm.removeNetworks(["demo_app"], in: cluster)

            // A worker that leaves the swarm leaves weft's gossip: Docker removes its swarm networks (the only sign
            // a remote driver gets), and once it has had none for WEFT_SWARM_IDLE_LEAVE its weft leaves; the others
            // see it gone, and nothing of weft's is left on it.
            let h3 = cluster["h3"]
            let leaving = ContinuousClock().now
            try await h3.docker("swarm", "leave")
            for host in [manager, h2] {
                try await Poll.until("\(host.name)'s weft to see h3 leave the gossip", timeout: .seconds(60), interval: .milliseconds(250)) {
                    try await ManagedPlugin.aliveMembers(seenBy: host) == [manager.underlayAddress, h2.underlayAddress]
                }
            }
            print("e2e swarm: h3 left the swarm; gone from weft's gossip \((ContinuousClock().now - leaving).milliseconds) ms later")
            // The others say why it is gone.
            let seenByManager = try await manager.run([
                PackagePaths.weftBinary, "gossip", "members", "--peer", "\(manager.underlayAddress):\(ManagedPlugin.gossipPort)",
                "--key-file", ManagedPlugin.keyFile(of: manager),
            ]).check().output
            #expect(seenByManager.split(separator: "\n").contains { $0.hasPrefix(h3.underlayAddress) && $0.contains("left (idle: no weft network or task on this host)") },
                    "the manager's weft shows h3 as: \(seenByManager)")
            // h3's own weft, once its leave is fully gossiped, forgets its peers and shows none alive.
            try await Poll.until("h3's weft to forget its peers", timeout: .seconds(10), interval: .milliseconds(250)) {
                try await ManagedPlugin.aliveMembers(seenBy: h3).isEmpty
            }
            #expect(try await ManagedPlugin.leftovers(on: h3) == [], "weft's objects left on h3 after it left the swarm")
            // Back in the swarm, given tasks, it is back in the gossip and its tasks reach every other.
            let down = try await manager.docker("node", "ls", "--filter", "role=worker", "--format", "{{.ID}} {{.Status}}")
            try await Poll.until("the manager to see h3 down", timeout: .seconds(30), interval: .milliseconds(250)) {
                try await manager.docker("node", "ls", "--format", "{{.Status}}").contains("Down")
            }
            for line in down.split(separator: "\n") {
                let id = String(line.split(separator: " ")[0])
                if try await manager.docker("node", "inspect", "--format", "{{.Status.State}}", id) == "down" {
                    try await manager.docker("node", "rm", id)
                }
            }
            let token = try await manager.docker("swarm", "join-token", "-q", "worker")
            try await h3.docker("swarm", "join", "--token", token, "--advertise-addr", h3.underlayAddress, "\(manager.underlayAddress):2377")
            try await manager.docker("service", "scale", "--detach", "web=6")
            let six = try await Swarm.waitForTasks(of: "web", count: 6, network: "net", in: cluster)
            try await Swarm.pingMatrix(six, service: "web")
            let everyone = cluster.hosts.map(\.underlayAddress).sorted()
            for host in cluster.hosts {
                try await Poll.until("\(host.name)'s weft to see all three in the gossip again", timeout: .seconds(30), interval: .milliseconds(250)) {
                    try await ManagedPlugin.aliveMembers(seenBy: host) == everyone
                }
            }

            for service in ["web", "ref", "ipam"] { try await manager.docker("service", "rm", service) }
            try await Swarm.removeNetworks(["net", "ovl", "ipamnet"], in: cluster)
            for host in cluster.hosts { try await ManagedPlugin.uninstall(from: host) }
        }
    }
}

/// The managed plugin `make plugin` builds: `<package root>/.build-plugin/plugin` (or `$WEFT_PLUGIN_DIR`).
enum ManagedPlugin {
    static let name = "weft:latest"

    static func directory() throws -> String {
        let environment = ProcessInfo.processInfo.environment["WEFT_PLUGIN_DIR"] ?? ""
        let directory = environment.isEmpty ? PackagePaths.root.appendingPathComponent(".build-plugin/plugin").path : environment
        guard FileManager.default.fileExists(atPath: directory + "/config.json"),
            FileManager.default.isExecutableFile(atPath: directory + "/rootfs/bin/weft")
        else {
            throw HarnessError("no managed plugin in \(directory): build it first with `make plugin` (make test does)")
        }
        return directory
    }

    /// The plugin's ID on `host` (its socket is `/run/docker/plugins/<id>/weft.sock` there).
    static func id(on host: TestHost) async throws -> String {
        try await host.docker("plugin", "inspect", "--format", "{{.Id}}", name)
    }

    /// `docker plugin create`, settings for this host (its own state directory, logs at `logLevel`), `docker
    /// plugin enable`; returns how long after the enable began the plugin answered
    /// GetCapabilities on its socket, with global scope.
    static func install(on host: TestHost, from directory: String, logLevel: String = "debug") async throws -> Duration {
        try await host.docker(["plugin", "create", name, directory], timeout: .seconds(120))
        // No seeds, no key and no advertise address: swarm's AllocateNetwork hands out the seeds and the manager's
        // gossip key, and the address defaults to the first interface that is up (eth0, the underlay, in these
        // hosts). Each plugin makes a key of its own at start; the harness's cluster key file is not used here.
        try? FileManager.default.removeItem(atPath: keyFile(of: host))
        // The plugin reads this host's engine for swarm services' VIPs (config.json's `docker` mount).
        try await host.docker(
            "plugin", "set", name, "state.source=\(host.weftStateDirectory)", "docker.source=\(host.dockerSocket)",
            "WEFT_LOG_LEVEL=\(logLevel)")
        let clock = ContinuousClock()
        let start = clock.now
        let enable = Task { try await host.docker("plugin", "enable", name) }
        try await waitUntilAnswering(on: host)
        let answered = clock.now - start
        _ = try await enable.value
        return answered
    }

    /// Once every weft network is gone: waits (bounded) until `host` has no weft link, namespace or state left,
    /// then disables and removes the plugin. Stopped by dockerd, the plugin's cgroup goes with it (the
    /// teardown's SIGKILL would leave it).
    static func uninstall(from host: TestHost) async throws {
        var left: [String] = []
        try await Poll.until("\(host.name) to have no weft network left; left: \(left)", timeout: .seconds(60), interval: .milliseconds(250)) {
            left = try await leftovers(on: host)
            return left.isEmpty
        }
        try await host.docker("plugin", "disable", "--force", name)
        try await host.docker("plugin", "rm", name)
    }

    /// Waits (bounded) until the plugin on `host` answers GetCapabilities on its socket, with global scope.
    static func waitUntilAnswering(on host: TestHost) async throws {
        let socket = "/run/docker/plugins/\(try await id(on: host))/weft.sock"
        var answer = ""
        try await Poll.until("\(host.name)'s plugin to answer on \(socket)", timeout: .seconds(20), interval: .milliseconds(50)) {
            let result = try await host.run(
                [Tools.path("curl"), "-sS", "--max-time", "2", "--unix-socket", socket, "-X", "POST",
                 "http://plugin/NetworkDriver.GetCapabilities"], timeout: .seconds(5))
            answer = result.output
            return result.succeeded && answer.contains("Scope")
        }
        #expect(answer.contains(#""Scope":"global""#), "GetCapabilities: \(answer)")
    }

    /// The directory of weft's per-network namespaces on `host`: the plugin's propagated mount `/run/weft`,
    /// under dockerd's data root.
    static func namespaceDirectory(on host: TestHost) async throws -> String {
        host.directory.appendingPathComponent("data/plugins/\(try await id(on: host))/propagated-mount/netns").path
    }

    /// The addresses of the neighbour entries in every weft network namespace on `host` (one per remote endpoint).
    static func neighbourAddresses(on host: TestHost) async throws -> Set<String> {
        let directory = try await namespaceDirectory(on: host)
        let output = try await host.run([
            Tools.sh, "-c", "for n in \(directory)/*; do [ \"${n##*/}\" = \(TestHost.probeNamespace) ] || nsenter --net=$n ip neigh show; done",
        ]).check().output
        return Set(output.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
    }

    /// The weft gossip members `host`'s plugin sees alive (asked with `weft gossip members` on its gossip port).
    static func gossipMembers(seenBy host: TestHost) async throws -> [String] {
        let output = try await host.run([
            PackagePaths.weftBinary, "gossip", "members", "--peer", "\(host.underlayAddress):\(gossipPort)",
            "--key-file", keyFile(of: host),
        ]).check().output
        return output.split(separator: "\n").filter { $0.contains(" alive") }.map(String.init)
    }

    /// The names (advertise addresses) of the weft gossip members `host`'s plugin sees alive, sorted.
    static func aliveMembers(seenBy host: TestHost) async throws -> [String] {
        try await gossipMembers(seenBy: host).compactMap { $0.split(separator: " ").first.map(String.init) }.sorted()
    }

    /// The plugin's gossip keys on `host` (its state directory's gossip.key, primary first).
    static func keyFile(of host: TestHost) -> String { host.weftStateDirectory + "/gossip.key" }

    /// The primary gossip key the plugin on `host` saved.
    static func primaryKey(of host: TestHost) throws -> String? {
        try String(contentsOfFile: keyFile(of: host), encoding: .utf8).split(separator: "\n").first { !$0.hasPrefix("#") }.map(String.init)
    }

    /// config.json's WEFT_GOSSIP_PORT (swarm's own gossip holds 7946).
    static let gossipPort = 7947

    /// What encrypted networks leave on `host` while one exists: the plugin's `weft-wg` (its wireguard-go), the
    /// blackhole route of the tunnel addresses and the nftables filter of plaintext VXLAN.
    static func encryptionLeftovers(on host: TestHost) async throws -> [String] {
        var found: [String] = []
        if try await host.run([Tools.ip, "link", "show", "weft-wg"]).succeeded { found.append("link weft-wg") }
        let routes = try await host.run([Tools.ip, "route", "show"]).check().output
        found += routes.split(separator: "\n").filter { $0.contains("100.64.") }.map { "route \($0)" }
        let tables = try await host.run([Tools.path("nft"), "list", "tables"]).check().output
        if tables.contains("weft_encrypted") { found.append("nftables table weft_encrypted") }
        return found
    }

    /// weft's kernel objects and state left on `host`: its links, its network namespaces (in the plugin's
    /// propagated mount, under dockerd's data root), and networks or pools in its state.
    static func leftovers(on host: TestHost) async throws -> [String] {
        var found: [String] = []
        let links = try await host.run([Tools.ip, "-o", "link", "show"]).check().output
        found += links.split(separator: "\n").filter { $0.contains(": wve") || $0.contains(": wvx-") }.map(String.init)
        let namespaces = try await namespaceDirectory(on: host)
        // The probe namespace is the running plugin's own (removed when it stops), not a network's.
        found += ((try? FileManager.default.contentsOfDirectory(atPath: namespaces)) ?? [])
            .filter { $0 != TestHost.probeNamespace }.map { "namespace \($0)" }
        found += try await encryptionLeftovers(on: host)
        let state = try await Command.run([PackagePaths.weftBinary, "state", "--state-dir", host.weftStateDirectory]).check().output
        if !state.contains("networks (0):") || !state.contains("IPAM pools (0):") || state.contains("allocated as swarm manager") {
            found.append(state)
        }
        return found
    }
}

/// Swarm set-up and services in a cluster of the harness.
enum Swarm {
    /// h1 initialises the swarm on its underlay address; the other hosts join it as workers.
    static func form(_ cluster: Cluster) async throws {
        let manager = cluster.hosts[0]
        try await manager.docker("swarm", "init", "--advertise-addr", manager.underlayAddress)
        let token = try await manager.docker("swarm", "join-token", "-q", "worker")
        for host in cluster.hosts.dropFirst() {
            try await host.docker(
                "swarm", "join", "--token", token, "--advertise-addr", host.underlayAddress, "\(manager.underlayAddress):2377")
        }
        try await Poll.until("every node to be Ready in the swarm", timeout: .seconds(30), interval: .milliseconds(200)) {
            let states = try await manager.docker("node", "ls", "--format", "{{.Status}}").split(separator: "\n")
            return states.count == cluster.hosts.count && states.allSatisfy { $0 == "Ready" }
        }
    }

    /// A running task of a service: where it runs, its container, its address on the service's network.
    struct ServiceTask: Sendable, CustomStringConvertible {
        let host: TestHost
        let container: String
        let address: String
        var description: String { "\(container.prefix(12)) on \(host.name) (\(address))" }
    }

    /// The running tasks of `service` on every host.
    static func tasks(of service: String, network: String, in cluster: Cluster) async throws -> [ServiceTask] {
        var tasks: [ServiceTask] = []
        for host in cluster.hosts {
            let ids = try await host.docker(
                "ps", "-q", "--filter", "label=com.docker.swarm.service.name=\(service)", "--filter", "status=running"
            ).split(separator: "\n").map(String.init)
            for id in ids {
                let address = try await host.docker(
                    "inspect", "--format", "{{(index .NetworkSettings.Networks \"\(network)\").IPAddress}}", id)
                tasks.append(ServiceTask(host: host, container: id, address: address))
            }
        }
        return tasks
    }

    /// Creates a service of `replicas` tasks on `network`, waits until they run spread over every node, and until
    /// every task reaches every other; returns the time from `service create` to the last successful ping.
    static func runService(_ service: String, replicas: Int, network: String, in cluster: Cluster) async throws -> Duration {
        let manager = cluster.hosts[0]
        let clock = ContinuousClock()
        let start = clock.now
        // The image exists only locally on every engine (there is no registry): no digest to resolve, and the
        // workers' pull fails and falls back to the local image.
        try await manager.docker(
            "service", "create", "--detach", "--no-resolve-image", "--name", service, "--replicas", "\(replicas)",
            "--network", network, TestImage.reference, "sleep", "600")
        let tasks = try await waitForTasks(of: service, count: replicas, network: network, in: cluster)
        try await pingMatrix(tasks, service: service)
        return clock.now - start
    }

    /// Waits until exactly `count` tasks of `service` run, spread over every node, each with an address.
    static func waitForTasks(of service: String, count: Int, network: String, in cluster: Cluster) async throws -> [ServiceTask] {
        var tasks: [ServiceTask] = []
        do {
            try await Poll.until("\(count) tasks of \(service) to run", timeout: .seconds(90), interval: .milliseconds(250)) {
                tasks = try await Self.tasks(of: service, network: network, in: cluster)
                return tasks.count == count && tasks.allSatisfy { !$0.address.isEmpty }
            }
        } catch {
            let states = try? await cluster.hosts[0].docker(
                "service", "ps", "--no-trunc", "--format", "{{.Node}} {{.CurrentState}} {{.Error}}", service)
            throw HarnessError("\(error)\n\(service) tasks:\n\(states ?? "?")")
        }
        let perHost = Dictionary(grouping: tasks, by: { $0.host.name }).mapValues(\.count)
        print("e2e swarm: \(service) on \(network): \(tasks.map(\.description).joined(separator: ", "))")
        #expect(perHost.count == min(count, cluster.hosts.count), "\(service)'s tasks are not spread over the nodes: \(perHost)")
        return tasks
    }

    /// `docker service rm`, then waits (bounded) until no container of the service is left on any node.
    static func removeService(_ service: String, in cluster: Cluster) async throws {
        try await cluster.hosts[0].docker("service", "rm", service)
        try await Poll.until("\(service)'s containers to be gone", timeout: .seconds(60), interval: .milliseconds(100)) {
            for host in cluster.hosts {
                let left = try await host.docker("ps", "-aq", "--filter", "label=com.docker.swarm.service.name=\(service)")
                if !left.isEmpty { return false }
            }
            return true
        }
    }

    /// Removes swarm networks on the manager, retried (bounded) until it succeeds: tasks take a moment to go
    /// after `service rm`, and a network is removable once they have.
    static func removeNetworks(_ networks: [String], in cluster: Cluster) async throws {
        for network in networks {
            try await Poll.until("the swarm to remove network \(network)", timeout: .seconds(60), interval: .milliseconds(250)) {
                try await cluster.hosts[0].dockerResult(["network", "rm", network])
            }
        }
    }

    /// A dual-stack swarm network on weft's IPAM (`--ipv6`, a v4 and a v6 `--subnet`): every task of a 6-replica
    /// service has an IPv4 and an IPv6 address, none shared, and reaches every other over both; then removed.
    static func checkDualStack(in cluster: Cluster) async throws {
        let manager = cluster.hosts[0]
        try await manager.docker(
            "network", "create", "-d", ManagedPlugin.name, "--ipam-driver", ManagedPlugin.name, "--attachable", "--ipv6",
            "--subnet", "10.35.0.0/24", "--subnet", "fd00:35::/64", "dsnet")
        #expect(try await manager.docker("network", "inspect", "--format", "{{.EnableIPv6}}", "dsnet") == "true")
        // swarm's allocator hands each task one address, from either pool; the node's engine asks its weft for
        // the other family.
        let took = try await Swarm.runService("ds", replicas: SwarmPluginTests.replicas, network: "dsnet", in: cluster)
        let tasks = try await Swarm.tasks(of: "ds", network: "dsnet", in: cluster)
        var tasks6: [Swarm.ServiceTask] = []
        for task in tasks {
            let address6 = try await task.host.docker(
                "inspect", "--format", "{{(index .NetworkSettings.Networks \"dsnet\").GlobalIPv6Address}}", task.container)
            tasks6.append(Swarm.ServiceTask(host: task.host, container: task.container, address: address6))
        }
        print("e2e swarm dual-stack: \(tasks6.map(\.description).joined(separator: ", "))")
        // What swarm itself allocated: one address per task, and the VIP.
        let taskIDs = try await manager.docker("service", "ps", "-q", "--filter", "desired-state=running", "ds")
            .split(separator: "\n").map(String.init)
        let allocated = try await manager.docker(
            ["inspect", "--format", "{{range .NetworksAttachments}}{{.Addresses}}{{end}}"] + taskIDs)
        let vip = try await manager.docker(
            "service", "inspect", "--format", "{{range .Endpoint.VirtualIPs}}{{.Addr}} {{end}}", "ds")
        print("e2e swarm dual-stack: swarm's own allocation: tasks \(allocated.split(separator: "\n").joined(separator: " ")), VIP \(vip)")
        let addresses = tasks.map(\.address)
        let addresses6 = tasks6.map(\.address)
        #expect(Set(addresses).count == SwarmPluginTests.replicas && addresses.allSatisfy { $0.hasPrefix("10.35.0.") }, "\(addresses)")
        #expect(Set(addresses6).count == SwarmPluginTests.replicas && addresses6.allSatisfy { $0.hasPrefix("fd00:35::") }, "\(addresses6)")
        let clock = ContinuousClock()
        let start = clock.now
        try await Swarm.pingMatrix(tasks6, service: "ds (IPv6)", ping6: true)
        print("e2e swarm dual-stack: IPv4 matrix \(took.milliseconds) ms after service create, IPv6 matrix \((clock.now - start).milliseconds) ms more")

        try await Swarm.removeService("ds", in: cluster)
        try await Swarm.removeNetworks(["dsnet"], in: cluster)
    }

    /// Every task pings every other (each source's pings in parallel with the other sources'), each pair retried
    /// until it answers, bounded.
    static func pingMatrix(
        _ tasks: [ServiceTask], service: String, timeout: Duration = .seconds(30), ping6: Bool = false
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for source in tasks {
                group.addTask {
                    for target in tasks where target.container != source.container {
                        try await Poll.until("\(service) task \(source) to reach \(target)", timeout: timeout, interval: .milliseconds(200)) {
                            try await source.host.dockerResult(
                                ["exec", source.container, "ping"] + (ping6 ? ["-6"] : []) + ["-c", "1", "-W", "1", target.address])
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
