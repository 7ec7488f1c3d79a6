import Foundation
import Glibc
import Synchronization
import TestSupport
import Testing

/// N simulated hosts joined by an underlay: a bridge `br0` in a network namespace of its own
/// (`<run>-ul`, whose firewall is empty, unlike a namespace where dockerd runs), one veth per host
/// (`eth0` with 192.0.2.(10+i)/24 in the host, `h<i>` on the bridge). Nothing is created in the root
/// network namespace, and nothing leaves these namespaces.
///
/// Use `Cluster.with(hosts:) { cluster in … }`: it builds the cluster (hosts in parallel), runs the body,
/// and tears everything down whether the body returned, threw, or the set-up failed half way; a teardown
/// that leaves anything behind is recorded as a test issue.
final class Cluster: Sendable {
    let runID: String
    /// `/tmp/<runID>`: every host's directory, the image tarball.
    let directory: URL
    let hosts: [TestHost]
    let underlayNamespace: String

    /// What a run is allowed to leave in the test log about its timing.
    struct Timings: Sendable, CustomStringConvertible {
        var setUp: Duration = .zero
        var teardown: Duration = .zero
        var hosts: [String] = []

        var description: String {
            "set-up \(setUp.milliseconds) ms, teardown \(teardown.milliseconds) ms; " + hosts.joined(separator: "; ")
        }
    }

    private init(hostCount: Int) {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let runID = "we2e-\(getpid())-\(suffix)"
        let directory = URL(fileURLWithPath: "/tmp").appendingPathComponent(runID)
        self.runID = runID
        self.directory = directory
        underlayNamespace = "\(runID)-ul"
        var generator = SystemRandomNumberGenerator()
        let gossipKey = Data((0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
        hosts = (1...hostCount).map { TestHost(index: $0, runID: runID, runDirectory: directory, gossipKey: gossipKey) }
    }

    subscript(_ name: String) -> TestHost {
        guard let host = hosts.first(where: { $0.name == name }) else { preconditionFailure("no host \(name)") }
        return host
    }

    var identity: ClusterIdentity {
        ClusterIdentity(
            runID: runID, directory: directory,
            namespaceNames: [underlayNamespace] + hosts.map(\.netns),
            cgroups: hosts.map(\.cgroup))
    }

    /// Options for `with(hosts:)`.
    struct Options: Sendable {
        /// Start a dockerd on every host (otherwise only namespaces and underlay).
        var startDockerd = true
        /// Import `TestImage` into every engine.
        var importImage = true
        /// Extra dockerd flags for every host.
        var dockerdArguments: [String] = []
        /// Print every log's tail when the set-up or the body throws (off for a test that throws on purpose).
        var printLogsOnFailure = true

        init(
            startDockerd: Bool = true, importImage: Bool = true, dockerdArguments: [String] = [],
            printLogsOnFailure: Bool = true
        ) {
            self.startDockerd = startDockerd
            self.importImage = importImage
            self.dockerdArguments = dockerdArguments
            self.printLogsOnFailure = printLogsOnFailure
        }
    }

    /// Builds a cluster of `count` hosts, runs `body`, and tears the cluster down in every case.
    /// `beforeDockerd` runs per host once its namespaces and underlay are up, before its dockerd starts
    /// (the place to start weft, so the plugin is there when the engine first needs it).
    static func with<T: Sendable>(
        hosts count: Int,
        options: Options = Options(),
        beforeDockerd: (@Sendable (TestHost) async throws -> Void)? = nil,
        _ body: (Cluster) async throws -> T
    ) async throws -> T {
        await StaleRuns.sweepOnce()
        let cluster = Cluster(hostCount: count)
        let result: Result<T, any Error>
        do {
            try await cluster.setUp(options: options, beforeDockerd: beforeDockerd)
            result = .success(try await body(cluster))
        } catch {
            result = .failure(error)
        }
        let environment = ProcessInfo.processInfo.environment
        if let logs = environment["WEFT_E2E_LOGS"], !logs.isEmpty {
            cluster.copyLogs(to: URL(fileURLWithPath: logs))
        }
        if case .failure(let error) = result {
            print(options.printLogsOnFailure ? cluster.failureReport(error) : "e2e \(cluster.runID) failed: \(error)")
            if environment["WEFT_E2E_KEEP"] == "1" {
                print(cluster.keptReport())
                return try result.get()
            }
        }
        // In a task of its own, so that a cancelled test (its time limit hit) still gets a full teardown:
        // a cancelled task's Task.sleep returns at once and every bounded wait would spin to its end.
        let leftovers = await Task { await cluster.teardown() }.value
        if !leftovers.isEmpty {
            Issue.record("cluster \(cluster.runID) teardown left:\n  \(leftovers.joined(separator: "\n  "))")
        }
        return try result.get()
    }

    // MARK: Debugging

    /// Every log of the run: per host the holder, dockerd and each started process (weft).
    var logFiles: [(host: TestHost, file: URL)] {
        hosts.flatMap { host in
            ((try? FileManager.default.contentsOfDirectory(atPath: host.directory.path)) ?? [])
                .filter { $0.hasSuffix(".log") }.sorted()
                .map { (host, host.directory.appendingPathComponent($0)) }
        }
    }

    /// Copies every log to `<directory>/<runID>/<host>/` (WEFT_E2E_LOGS), before teardown removes them.
    func copyLogs(to directory: URL) {
        for (host, file) in logFiles {
            let target = directory.appendingPathComponent(runID).appendingPathComponent(host.name)
            try? FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            try? FileManager.default.copyItem(at: file, to: target.appendingPathComponent(file.lastPathComponent))
        }
    }

    /// The error and the tail of every log, printed when the set-up or the body throws.
    func failureReport(_ error: any Error) -> String {
        var text = "e2e \(runID) failed: \(error)"
        for (host, file) in logFiles {
            let lines = ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(
                separator: "\n", omittingEmptySubsequences: false)
            // weft's log says what weft was asked and answered; the others' tails give the context.
            let shown = file.lastPathComponent.hasPrefix("weft") ? 60 : 20
            text += "\n--- \(host.name)/\(file.lastPathComponent) (last \(shown) of \(lines.count) lines):\n"
            text += lines.suffix(shown).joined(separator: "\n")
        }
        return text
    }

    /// What to type to look at a cluster kept by WEFT_E2E_KEEP=1 (the next test run removes it).
    func keptReport() -> String {
        var text = "e2e \(runID) kept for inspection (WEFT_E2E_KEEP=1); the next test run removes it:"
        text += "\n  underlay: ip -n \(underlayNamespace) link show master br0"
        for host in hosts {
            let holder = host.holder.map { "\($0.pid)" } ?? "?"
            text += "\n  \(host.name) (\(host.underlayAddress)): \(Tools.docker) -H unix://\(host.dockerSocket) ps -a"
            text += "\n      nsenter --net=/proc/\(holder)/ns/net --mount=/proc/\(holder)/ns/mnt sh"
            text += "\n      logs: \(host.directory.path)/*.log"
        }
        return text
    }

    // MARK: Set-up

    private let timings = Mutex(Timings())

    /// The timings of the run so far (set-up, per host, teardown).
    var timingReport: Timings { timings.withLock { $0 } }

    private func setUp(options: Options, beforeDockerd: (@Sendable (TestHost) async throws -> Void)?) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await Command.output([Tools.ip, "netns", "add", underlayNamespace])
        try await Command.output([Tools.ip, "-n", underlayNamespace, "link", "set", "lo", "up"])
        try await Command.output([Tools.ip, "-n", underlayNamespace, "link", "add", "br0", "type", "bridge"])
        try await Command.output([Tools.ip, "-n", underlayNamespace, "link", "set", "br0", "up"])
        let tarball: URL? =
            options.startDockerd && options.importImage
            ? try await TestImage.buildTarball(in: directory.appendingPathComponent("image")) : nil

        try await withThrowingTaskGroup(of: Void.self) { group in
            for host in hosts {
                group.addTask {
                    try await host.setUpNamespaces()
                    try await self.attachToUnderlay(host)
                    if let beforeDockerd { try await beforeDockerd(host) }
                    guard options.startDockerd else { return }
                    try await host.startDockerd(extraArguments: options.dockerdArguments)
                    if let tarball { try await TestImage.importInto(host, tarball: tarball) }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = clock.now - start
        timings.withLock {
            $0.setUp = elapsed
            $0.hosts = hosts.map { "\($0.name): \($0.timings)" }
        }
        print("e2e \(runID): \(hosts.count) host(s) up in \(elapsed.milliseconds) ms (\(timingReport.hosts.joined(separator: "; ")))")
    }

    /// `eth0` in the host (192.0.2.(10+i)/24), its peer `h<i>` on the underlay bridge. The veth is created
    /// directly in the two namespaces, never in the root one.
    private func attachToUnderlay(_ host: TestHost) async throws {
        let ip = Tools.ip
        try await Command.output([
            ip, "link", "add", "eth0", "netns", host.netns, "type", "veth", "peer", "name", host.name, "netns",
            underlayNamespace,
        ])
        try await Command.output([ip, "-n", underlayNamespace, "link", "set", host.name, "master", "br0", "up"])
        try await Command.output([
            ip, "-n", host.netns, "addr", "add", "\(host.underlayAddress)/\(TestHost.underlayPrefixLength)", "dev",
            "eth0",
        ])
        try await Command.output([ip, "-n", host.netns, "link", "set", "eth0", "up"])
    }

    // MARK: Teardown

    /// Tears every host down (in parallel), deletes the underlay namespace and the run directory, then scans
    /// for leftovers. Never throws; returns what is left (empty when all is gone).
    func teardown() async -> [String] {
        let clock = ContinuousClock()
        let start = clock.now
        let identity = self.identity
        var problems: [String] = []
        await withTaskGroup(of: [String].self) { group in
            for host in hosts { group.addTask { await host.teardown() } }
            for await hostProblems in group { problems.append(contentsOf: hostProblems) }
        }
        if TestHost.namespaceExists(underlayNamespace) {
            let result = try? await Command.run([Tools.ip, "netns", "delete", underlayNamespace])
            if result?.succeeded != true { problems.append("`ip netns delete \(underlayNamespace)` failed") }
        }
        do {
            if FileManager.default.fileExists(atPath: directory.path) {
                try FileManager.default.removeItem(at: directory)
            }
        } catch {
            problems.append("cannot remove \(directory.path): \(error)")
        }
        let elapsed = clock.now - start
        timings.withLock { $0.teardown = elapsed }
        print("e2e \(runID): teardown in \(elapsed.milliseconds) ms")
        return problems + Leftovers.scan(identity)
    }
}

/// Leftovers of runs whose test process died before its teardown (a crash, a SIGKILL): found by name (every
/// run's names start with `we2e-<pid>-`) and removed once per test process, when the pid is gone.
enum StaleRuns {
    private static let swept = Mutex(false)

    static func sweepOnce() async {
        let first = swept.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        var runs = Set<String>()
        let fileManager = FileManager.default
        let candidates =
            ((try? fileManager.contentsOfDirectory(atPath: "/run/netns")) ?? [])
            + ((try? fileManager.contentsOfDirectory(atPath: "/tmp")) ?? [])
            + HostCgroup.hierarchies.flatMap { (try? fileManager.contentsOfDirectory(atPath: $0)) ?? [] }
        for name in candidates {
            let parts = name.split(separator: "-")
            guard parts.count >= 3, parts[0] == "we2e", let pid = pid_t(parts[1]), pid != getpid(),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            runs.insert("we2e-\(parts[1])-\(parts[2])")
        }
        for run in runs.sorted() {
            print("e2e: removing leftovers of a dead run \(run)")
            let cgroupNames = Set(
                HostCgroup.hierarchies.flatMap { (try? fileManager.contentsOfDirectory(atPath: $0)) ?? [] }
                    .filter { $0.hasPrefix(run + "-") })
            for name in cgroupNames {
                let cgroup = HostCgroup(name: name)
                _ = await cgroup.killAll()
                _ = await cgroup.remove()
            }
            for name in (try? fileManager.contentsOfDirectory(atPath: "/run/netns")) ?? [] where name.hasPrefix(run) {
                _ = try? await Command.run([Tools.ip, "netns", "delete", name])
            }
            try? fileManager.removeItem(atPath: "/tmp/\(run)")
        }
    }
}
