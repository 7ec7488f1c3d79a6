import Foundation
import Glibc
import TestSupport

/// Helpers for tests of weft across hosts: containers with fixed addresses, pings between them, the kernel's
/// entries for remote endpoints, and cutting a host off the underlay.

/// A container on a weft network, named and addressed by the test.
struct OverlayContainer: Sendable, CustomStringConvertible {
    let host: TestHost
    let name: String
    let address: String

    var description: String { "\(name)@\(host.name)" }

    /// Starts `sleep 600` in a container on `network` with a fixed address (cluster-wide IPAM is not there yet:
    /// each host's own IPAM would hand out the same addresses).
    @discardableResult
    static func start(on host: TestHost, name: String, network: String, address: String, image: String = TestImage.reference)
        async throws -> OverlayContainer
    {
        try await host.docker("run", "-d", "--name", name, "--network", network, "--ip", address, image, "sleep", "600")
        return OverlayContainer(host: host, name: name, address: address)
    }

    /// `ping` from inside the container (busybox: `-W` waits that many seconds for the first reply).
    func ping(_ address: String, count: Int = 1, interval: String? = nil, wait: Int = 1, timeout: Duration = .seconds(30))
        async throws -> CommandResult
    {
        var arguments = ["exec", name, "ping", "-c", "\(count)", "-W", "\(wait)"]
        if let interval { arguments += ["-i", interval] }
        return try await host.dockerResult(arguments + [address], timeout: timeout)
    }

    func reaches(_ other: OverlayContainer) async throws -> Bool {
        try await ping(other.address).succeeded
    }

    /// The container's MAC on `network`, as Docker reports it.
    func mac(on network: String) async throws -> String {
        try await host.docker("inspect", "--format", "{{(index .NetworkSettings.Networks \"\(network)\").MacAddress}}", name)
    }

    /// The container's init process, as the root PID namespace sees it (the hosts share it).
    func pid() async throws -> Int32 {
        let text = try await host.docker("inspect", "--format", "{{.State.Pid}}", name)
        guard let pid = Int32(text), pid > 0 else { throw HarnessError("\(self): no pid in `\(text)`") }
        return pid
    }

    func remove() async throws {
        try await host.docker("rm", "-f", name)
    }

    /// Polls, pair by pair, until every container reaches every other (`from` → `to`), each pair bounded.
    static func waitForMatrix(
        _ containers: [OverlayContainer], to targets: [OverlayContainer]? = nil, timeout: Duration = .seconds(20)
    ) async throws {
        let targets = targets ?? containers
        try await withThrowingTaskGroup(of: Void.self) { group in
            for source in containers {
                group.addTask {
                    for target in targets where target.name != source.name {
                        try await Poll.until("\(source) to reach \(target) (\(target.address))", timeout: timeout, interval: .milliseconds(200)) {
                            try await source.ping(target.address)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

/// A ping from a container that runs until `stop()`: started with `docker exec`, ended with SIGINT, on which
/// busybox's ping prints its summary. One at a time per container (`stop` signals every ping in it).
struct RunningPing: Sendable {
    let source: OverlayContainer
    let target: String
    let interval: String
    private let task: Task<CommandResult, any Error>

    /// Starts the ping and returns once it runs in the container.
    static func start(from source: OverlayContainer, to target: String, interval: String = "0.2") async throws -> RunningPing {
        let task = Task {
            try await source.host.dockerResult(
                ["exec", source.name, "ping", "-i", interval, target], timeout: .seconds(600))
        }
        let ping = RunningPing(source: source, target: target, interval: interval, task: task)
        try await Poll.until("a ping from \(source) to \(target) to run", timeout: .seconds(20), interval: .milliseconds(50)) {
            try await source.host.dockerResult(["exec", source.name, "pidof", "ping"])
        }
        return ping
    }

    /// Stops the ping (SIGINT) and reads its summary. A request still in flight at the signal counts as lost.
    func stop() async throws -> PingSummary {
        try await source.host.docker("exec", source.name, "killall", "-INT", "ping")
        return try PingSummary(try await task.value)
    }
}

/// The summary line of a ping: `N packets transmitted, M packets received` (busybox) or `M received` (iputils).
struct PingSummary: Sendable, CustomStringConvertible {
    let transmitted: Int
    let received: Int
    /// Replies marked `DUP!` (a frame delivered twice).
    let duplicates: Int
    /// Every run of requests without a reply between two answered ones (an outage, in requests), in order.
    let gaps: [Int]
    /// The longest of ``gaps``, 0 when there is none.
    var longestGap: Int { gaps.max() ?? 0 }
    var lost: Int { transmitted - received }
    /// The slowest answer's round trip (`round-trip min/avg/max = a/b/c ms`), nil when none came back.
    let maxMilliseconds: Double?

    init(_ result: CommandResult) throws {
        let text = result.stdout
        duplicates = text.components(separatedBy: "DUP!").count - 1
        let answered = text.split(separator: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: "seq=") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        gaps = zip(answered, answered.dropFirst()).map { $1 - $0 - 1 }.filter { $0 > 0 }
        guard let line = text.split(separator: "\n").first(where: { $0.contains("packets transmitted") }) else {
            throw HarnessError("no ping summary in \(result)")
        }
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard numbers.count >= 2 else { throw HarnessError("cannot read the ping summary `\(line)`") }
        transmitted = numbers[0]
        received = numbers[1]
        maxMilliseconds = Self.slowest(in: text)
    }

    var description: String { "\(received)/\(transmitted) answered" }

    /// `c` of `round-trip min/avg/max = a/b/c ms` (busybox) or `rtt min/avg/max/mdev = a/b/c/d ms` (iputils).
    static func slowest(in text: String) -> Double? {
        guard let line = text.split(separator: "\n").first(where: { $0.contains("min/avg/max") }),
            let values = line.split(separator: "=").last
        else { return nil }
        let fields = values.split(separator: "/")
        guard fields.count >= 3 else { return nil }
        return Double(fields[2].filter { $0.isNumber || $0 == "." })
    }
}

/// What a host's kernel holds for other hosts' endpoints: the permanent FDB entries with a remote destination
/// and the permanent neighbour entries of the VXLAN device in each of weft's network namespaces
/// (`/run/weft/netns/<vni>`), read with iproute2's JSON output.
struct VXLANEntries: Sendable, Equatable, CustomStringConvertible {
    struct FDB: Hashable, Sendable, Comparable, CustomStringConvertible {
        var namespace: String
        var mac: String
        var destination: String
        var description: String { "\(namespace): fdb \(mac) dst \(destination)" }
        static func < (a: FDB, b: FDB) -> Bool { a.description < b.description }
    }

    struct Neighbour: Hashable, Sendable, Comparable, CustomStringConvertible {
        var namespace: String
        var address: String
        var mac: String
        var description: String { "\(namespace): neigh \(address) lladdr \(mac)" }
        static func < (a: Neighbour, b: Neighbour) -> Bool { a.description < b.description }
    }

    var fdb: Set<FDB> = []
    var neighbours: Set<Neighbour> = []

    static let zeroMAC = "00:00:00:00:00:00"

    /// Every entry that points at `vtep` (endpoint entries and the flooding entry).
    func fdb(to vtep: String) -> [FDB] { fdb.filter { $0.destination == vtep }.sorted() }
    func fdb(mac: String) -> [FDB] { fdb.filter { $0.mac.lowercased() == mac.lowercased() }.sorted() }
    func neighbours(of address: String) -> [Neighbour] { neighbours.filter { $0.address == address }.sorted() }
    func neighbours(mac: String) -> [Neighbour] { neighbours.filter { $0.mac.lowercased() == mac.lowercased() }.sorted() }

    var isEmpty: Bool { fdb.isEmpty && neighbours.isEmpty }

    var description: String {
        let lines = fdb.sorted().map(\.description) + neighbours.sorted().map(\.description)
        return lines.isEmpty ? "(no remote entries)" : lines.joined(separator: "\n")
    }
}

extension TestHost {
    /// The namespace of weft's data-path probes (`/run/weft/netns/paths`): the daemon's own, there while weft runs
    /// and removed when it stops, whatever networks exist.
    static let probeNamespace = "paths"

    /// weft's network namespaces in this host (`/run/weft/netns/*` but the probe namespace), by name (the VNI in hex).
    func weftNamespaces() async throws -> [String] {
        try await allWeftNamespaces().filter { $0 != Self.probeNamespace }
    }

    /// Every namespace under `/run/weft/netns`, the probe namespace included.
    func allWeftNamespaces() async throws -> [String] {
        let output = try await run([Tools.sh, "-c", "ls \(Self.weftRuntimeDirectory)/netns 2>/dev/null || true"]).check().output
        return output.split(separator: "\n").map(String.init)
    }

    /// The remote entries of every weft network in this host (see `VXLANEntries`).
    func vxlanEntries() async throws -> VXLANEntries {
        // One shell per call: per namespace a marker line, then the FDB and the neighbour dump of its VXLAN port.
        let script = """
            for n in \(Self.weftRuntimeDirectory)/netns/*; do
              [ -e "$n" ] || continue
              b=${n##*/}
              [ "$b" = \(Self.probeNamespace) ] && continue
              echo "== fdb $b"; nsenter --net="$n" bridge -j fdb show dev "wvx-$b" || echo "[]"
              echo "== neigh $b"; nsenter --net="$n" ip -j neigh show dev "wvx-$b" || echo "[]"
            done
            """
        let output = try await run([Tools.sh, "-c", script]).check().stdout
        var entries = VXLANEntries()
        var section: (kind: Substring, namespace: String)?
        var body = ""
        func flush() throws {
            guard let current = section else { return }
            let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
            let json = trimmed.isEmpty ? "[]" : trimmed
            guard let objects = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
                throw HarnessError("\(name): cannot read the \(current.kind) dump of \(current.namespace): \(json)")
            }
            for object in objects {
                if current.kind == "fdb" {
                    let state = object["state"] as? String ?? ""
                    let flags = object["flags"] as? [String] ?? []
                    guard let mac = object["mac"] as? String, let destination = object["dst"] as? String,
                        flags.contains("self"), state == "permanent"
                    else { continue }
                    entries.fdb.insert(.init(namespace: current.namespace, mac: mac, destination: destination))
                } else {
                    let state = object["state"] as? [String] ?? []
                    guard let address = object["dst"] as? String, let mac = object["lladdr"] as? String,
                        state.contains("PERMANENT")
                    else { continue }
                    entries.neighbours.insert(.init(namespace: current.namespace, address: address, mac: mac))
                }
            }
        }
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("== ") {
                try flush()
                let parts = line.split(separator: " ")
                guard parts.count == 3 else { throw HarnessError("\(name): unexpected line `\(line)`") }
                section = (parts[1], String(parts[2]))
                body = ""
            } else {
                body += line + "\n"
            }
        }
        try flush()
        return entries
    }
}

extension Cluster {
    /// Cuts `host` off the underlay, as a partition does: the underlay bridge drops every frame from or to the
    /// host's port (ebtables in the underlay namespace), while the host's own link stays up and it notices
    /// nothing but silence.
    func cutOff(_ host: TestHost) async throws {
        for direction in ["-i", "-o"] {
            try await Command.output(underlayCommand([Tools.ebtables, "-A", "FORWARD", direction, host.name, "-j", "DROP"]))
        }
    }

    /// Undoes `cutOff`.
    func reconnect(_ host: TestHost) async throws {
        for direction in ["-i", "-o"] {
            try await Command.output(underlayCommand([Tools.ebtables, "-D", "FORWARD", direction, host.name, "-j", "DROP"]))
        }
    }

    /// `argv` inside the underlay's network namespace.
    func underlayCommand(_ argv: [String]) -> [String] {
        [Tools.nsenter, "--net=/run/netns/\(underlayNamespace)", "--"] + argv
    }

    /// The arguments that start weft on `host` with every other host of the cluster as a seed.
    static func joinArguments(for host: TestHost, hostCount: Int) -> [String] {
        (1...hostCount).filter { $0 != host.index }.flatMap { ["--join", "192.0.2.\(10 + $0)"] }
    }
}

/// Wall-clock and monotonic time for the tests' measurements.
enum WallClock {
    /// Seconds since the epoch, with nanoseconds (CLOCK_REALTIME, the same in every namespace of the machine).
    static func wallSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Seconds since boot (CLOCK_BOOTTIME): the clock of `/proc/uptime`, which a container can read too (there
    /// are no time namespaces here), with 10 ms resolution.
    static func bootSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension TestHost {
    /// `docker network rm NAME` once every container has left the network (dockerd lists none on it, weft's state
    /// holds no endpoint of it), each bounded.
    ///
    /// Docker 20.10 keeps a per-network endpoint counter (libnetwork's `endpoint_cnt`) that concurrent endpoint
    /// creation and removal can leave too high: after 6 concurrent `docker run` lanes and one `docker rm -f` of 100
    /// containers, `network rm` answered "has active endpoints" for good, on every host in one run, with no
    /// container on the network and no endpoint left in weft; the same run left Docker's own `docker_gwbridge`
    /// (a bridge network) counted too high as well. Nothing weft answers changes that counter, and dockerd
    /// corrects it only when it starts ("Fixing inconsistent endpoint_cnt … Expected=0, Actual=5"). So when that
    /// is the refusal, dockerd is restarted, its correction is checked in its log, and the removal must then
    /// succeed at once. Returns whether dockerd had to be restarted.
    @discardableResult
    func removeNetwork(_ network: String) async throws -> Bool {
        try await Poll.until("\(name)'s dockerd to list no container on \(network)", timeout: .seconds(30), interval: .milliseconds(250)) {
            try await docker("network", "inspect", "--format", "{{len .Containers}}", network) == "0"
        }
        try await Poll.until("\(name)'s weft to hold no endpoint", timeout: .seconds(10), interval: .milliseconds(250)) {
            let state = try await run([PackagePaths.weftBinary, "state", "--state-dir", weftStateDirectory]).check().output
            return !state.contains("    endpoint ")
        }
        let removal = try await dockerResult(["network", "rm", network])
        if removal.succeeded { return false }
        guard removal.stderr.contains("has active endpoints") else { throw HarnessError("\(name): \(removal)") }
        print("e2e \(name): dockerd counts endpoints on \(network) that none of its containers has (Docker's endpoint_cnt race); restarting it, which recounts")
        let before = (try? String(contentsOf: dockerdLog, encoding: .utf8))?.count ?? 0
        await stopDockerd()
        try await startDockerd()
        let log = String(((try? String(contentsOf: dockerdLog, encoding: .utf8)) ?? "").dropFirst(before))
        guard let correction = log.split(separator: "\n").first(where: { $0.contains("Fixing inconsistent endpoint_cnt for network \(network).") }) else {
            throw HarnessError("\(name): `network rm \(network)` refused (\(removal.stderr)), and the restarted dockerd corrected no endpoint count")
        }
        print("e2e \(name): \(correction)")
        try await docker("network", "rm", network)
        return true
    }
}

extension TestHost {
    /// How many members this host's gossip reports alive, asked with the keys in `keyFile` (default: the host's
    /// own `gossip.key`); nil when it does not answer (no weft, or a key it does not take).
    func aliveGossipMembers(keyFile: String? = nil) async throws -> Int? {
        let result = try await run([
            PackagePaths.weftBinary, "gossip", "members", "--peer", "\(underlayAddress):7946",
            "--key-file", keyFile ?? weftStateDirectory + "/gossip.key",
        ])
        guard result.succeeded else { return nil }
        return result.output.split(separator: "\n").filter { $0.contains(" alive") }.count
    }
}

/// tcpdump on the underlay bridge for a bounded time: started, and waited for until it listens, so that what a
/// test sends afterwards is in the capture.
struct UnderlayCapture: Sendable {
    private let task: Task<String, any Error>

    /// Captures `filter` on `br0` for `seconds` (`ascii`: payloads printed, for markers).
    static func start(_ cluster: Cluster, seconds: Int, filter: String = "udp", ascii: Bool = false) async throws -> UnderlayCapture {
        let status = cluster.directory.appendingPathComponent("tcpdump-\(UUID().uuidString).log")
        let command = "timeout \(seconds) \(Tools.tcpdump) -i br0 -nn -l \(ascii ? "-A " : "")-s 0 \(filter) 2>\(status.path); true"
        let task = Task {
            try await Command.output(cluster.underlayCommand([Tools.sh, "-c", command]), timeout: .seconds(seconds + 20))
        }
        try await Poll.until("tcpdump on the underlay to listen", timeout: .seconds(10), interval: .milliseconds(50)) {
            ((try? String(contentsOf: status, encoding: .utf8)) ?? "").contains("listening on")
        }
        return UnderlayCapture(task: task)
    }

    /// What tcpdump printed, once its time is up.
    func output() async throws -> String { try await task.value }
}
