import Foundation
import Glibc
import Synchronization
import TestSupport

/// One simulated Docker host:
///
/// - a network namespace `<run>-<name>` (made with `ip netns add`), with `lo` up and `eth0` on the underlay;
/// - a mount namespace owned by a holder process (`sleep infinity`), with private tmpfs mounts on `/run`
///   (so `/run/docker/plugins`, `/run/netns`, `/run/weft`, `/run/containerd` and `/run/xtables.lock` are this
///   host's own) and on `/etc/docker`;
/// - its own dockerd (data root, exec root, API socket, pid file, config file under the host's directory),
///   started inside both namespaces;
/// - a cgroup subtree that holds all its processes and containers (`HostCgroup`).
///
/// Everything a host made is removed by `teardown()`, which `Cluster` runs also when a test fails.
final class TestHost: Sendable {
    /// `h1`, `h2`, …
    let name: String
    let index: Int
    /// The network namespace's name under the root namespace's /run/netns.
    let netns: String
    /// This host's address on the underlay (192.0.2.0/24).
    let underlayAddress: String
    static let underlayPrefixLength = 24
    /// `<run directory>/<name>`: logs, dockerd's roots, sockets, weft's state directory.
    let directory: URL
    let cgroup: HostCgroup
    /// The string every mount this host makes carries (as the tmpfs source), for the leftover scan.
    let marker: String

    private let state = Mutex(State())

    private struct State {
        var holder: HostProcess?
        var dockerd: HostProcess?
        var processes: [HostProcess] = []
        var netNamespaceID: String?
        var mountNamespaceID: String?
        /// Open descriptors of the host's namespaces: while they are open the namespaces cannot be freed, so
        /// their inode numbers (the IDs above) cannot be reused by someone else's new namespace — killing
        /// "every process in these namespaces" by ID is only safe while they are pinned.
        var namespacePins: [Int32] = []
        var timings = StartupTimings()
    }

    /// How long each start-up step took.
    struct StartupTimings: Sendable, CustomStringConvertible {
        var namespaces: Duration?
        var dockerd: Duration?
        var image: Duration?

        var description: String {
            func text(_ value: Duration?) -> String { value.map { "\($0.milliseconds) ms" } ?? "-" }
            return "namespaces+holder \(text(namespaces)), dockerd ready \(text(dockerd)), image import \(text(image))"
        }
    }

    /// The cluster's gossip key (base64), written to every host's state directory as `gossip.key` (mode 0600)
    /// before weft starts, as an operator copies it: weft gossips only keyed unless told `--insecure-gossip`.
    let gossipKey: String

    init(index: Int, runID: String, runDirectory: URL, gossipKey: String) {
        self.gossipKey = gossipKey
        self.index = index
        self.name = "h\(index)"
        self.netns = "\(runID)-h\(index)"
        self.underlayAddress = "192.0.2.\(10 + index)"
        self.directory = runDirectory.appendingPathComponent("h\(index)")
        self.cgroup = HostCgroup(name: "\(runID)-h\(index)")
        self.marker = "\(runID)-h\(index)"
    }

    // MARK: Paths

    var dockerSocket: String { directory.appendingPathComponent("docker.sock").path }
    var dockerdLog: URL { directory.appendingPathComponent("dockerd.log") }
    /// weft's `--state-dir` for this host (on the real file system, so it survives a weft restart).
    var weftStateDirectory: String { directory.appendingPathComponent("weft-state").path }
    /// The plugin socket dockerd discovers, as seen inside the host.
    static let pluginSocket = "/run/docker/plugins/weft.sock"
    /// weft's `--runtime-dir`, as seen inside the host.
    static let weftRuntimeDirectory = "/run/weft"

    var holder: HostProcess? { state.withLock { $0.holder } }
    var dockerd: HostProcess? { state.withLock { $0.dockerd } }
    var timings: StartupTimings { state.withLock { $0.timings } }
    /// `net:[inode]` and `mnt:[inode]` of the host's namespaces, once the holder runs (valid until teardown
    /// ends; after that the kernel may give the numbers to new namespaces).
    var namespaceIDs: [String] {
        state.withLock { [$0.netNamespaceID, $0.mountNamespaceID].compactMap { $0 } }
    }

    /// A path inside the host's mount namespace, reachable from the test process (`/proc/<holder>/root/…`).
    func pathInHost(_ path: String) throws -> String {
        guard let holder else { throw HarnessError("\(name): no holder process (host not set up)") }
        return "/proc/\(holder.pid)/root\(path)"
    }

    // MARK: Start-up

    /// Creates the network namespace, the cgroup, the host directory and the holder of the mount namespace.
    /// The underlay link is added by `Cluster` afterwards.
    func setUpNamespaces() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            atPath: weftStateDirectory, withIntermediateDirectories: true)
        guard FileManager.default.createFile(
            atPath: weftStateDirectory + "/gossip.key", contents: Data((gossipKey + "\n").utf8),
            attributes: [.posixPermissions: 0o600])
        else { throw HarnessError("\(name): cannot write \(weftStateDirectory)/gossip.key") }
        try cgroup.create()
        try await Command.output([Tools.ip, "netns", "add", netns])
        try await Command.output([Tools.ip, "-n", netns, "link", "set", "lo", "up"])

        let ready = directory.appendingPathComponent("holder.ready").path
        // In the new mount namespace (private propagation, so nothing leaks back): detach every copied
        // network-namespace mount and everything under /run (the copies would keep other hosts' and other
        // tests' namespaces alive), then a fresh tmpfs on /run and one on /etc/docker (dockerd writes its
        // key.json there).
        let script = """
            set -e
            awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i+1) == "nsfs" || $5 ~ "^/run/" || $5 == "/run") print $5; break } }' \
              /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
            mount -t tmpfs -o mode=755 \(marker)-run /run
            mkdir -p /run/docker/plugins /run/netns /run/weft /run/containerd
            mkdir -p /etc/docker
            mount -t tmpfs -o mode=755 \(marker)-etc-docker /etc/docker
            touch \(ready)
            exec \(Tools.sleep) infinity
            """
        let holder = try HostProcess.start(
            label: "\(name)/holder",
            argv: joiningCgroup([
                Tools.nsenter, "--net=/run/netns/\(netns)", Tools.unshare, "--mount", "--propagation", "private",
                Tools.sh, "-c", script,
            ]),
            logFile: directory.appendingPathComponent("holder.log"))
        state.withLock { $0.holder = holder }
        try await Poll.until("\(name)'s holder to set up its mount namespace", timeout: .seconds(10)) {
            if !holder.isRunning {
                throw HarnessError("\(name): the namespace holder exited: \(holder.logTail())")
            }
            return FileManager.default.fileExists(atPath: ready)
        }
        let pins = ["net", "mnt"].map { open("/proc/\(holder.pid)/ns/\($0)", O_RDONLY | O_CLOEXEC) }.filter { $0 >= 0 }
        state.withLock { $0.namespacePins = pins }
        guard pins.count == 2 else { throw HarnessError("\(name): cannot open the holder's namespaces") }
        let net = try Self.namespaceID(pid: holder.pid, kind: "net")
        let mnt = try Self.namespaceID(pid: holder.pid, kind: "mnt")
        state.withLock {
            $0.netNamespaceID = net
            $0.mountNamespaceID = mnt
            $0.timings.namespaces = clock.now - start
        }
    }

    /// Starts this host's dockerd inside its namespaces and waits (bounded) until it answers `docker info`.
    ///
    /// Flags: own `--data-root`, `--exec-root`, `-H unix://…`, `--pidfile`, and `--config-file` (an empty
    /// file, so /etc/docker/daemon.json never applies); `--cgroup-parent` puts containers in the host's
    /// cgroup. iptables and the default bridge stay on: inside a network namespace of its own dockerd's
    /// firewall rules (and its `FORWARD DROP`) touch only this host, as on a real machine.
    @discardableResult
    func startDockerd(extraArguments: [String] = [], timeout: Duration = .seconds(60)) async throws -> HostProcess {
        let clock = ContinuousClock()
        let start = clock.now
        let config = directory.appendingPathComponent("daemon.json")
        try Data("{}\n".utf8).write(to: config)
        let arguments =
            [
                Tools.dockerd,
                "--data-root", directory.appendingPathComponent("data").path,
                "--exec-root", directory.appendingPathComponent("exec").path,
                "--host", "unix://\(dockerSocket)",
                "--pidfile", directory.appendingPathComponent("docker.pid").path,
                "--config-file", config.path,
                "--cgroup-parent", cgroup.dockerCgroupParent,
                "--iptables=true",
            ] + extraArguments
        let dockerd = try spawn("dockerd", arguments, logFile: dockerdLog, track: false)
        state.withLock { $0.dockerd = dockerd }
        try await Poll.until("\(name)'s dockerd to answer `docker info`", timeout: timeout, interval: .milliseconds(50)) {
            if !dockerd.isRunning {
                throw HarnessError("\(name): dockerd exited (\(dockerd.exitStatus ?? -1)):\n\(dockerd.logTail())")
            }
            return try await self.dockerResult(["info", "--format", "{{.ID}}"], timeout: .seconds(10)).succeeded
        }
        state.withLock { $0.timings.dockerd = clock.now - start }
        return dockerd
    }

    /// SIGTERM to dockerd (SIGKILL after `grace`), e.g. to test a restart.
    @discardableResult
    func stopDockerd(grace: Duration = .seconds(15)) async -> HostProcess.StopOutcome {
        guard let dockerd else { return .alreadyExited }
        return await dockerd.terminate(grace: grace)
    }

    func recordImageImport(_ duration: Duration) {
        state.withLock { $0.timings.image = duration }
    }

    // MARK: Running things in the host

    /// The environment for the docker CLI: no DOCKER_HOST/DOCKER_CONTEXT from outside, a config directory
    /// of the host's own (the CLI never writes ~/.docker).
    var dockerEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DOCKER_") }
        environment["DOCKER_CONFIG"] = directory.appendingPathComponent("docker-config").path
        return environment
    }

    /// Runs Debian's docker CLI against this host's engine.
    func dockerResult(_ arguments: [String], standardInput: URL? = nil, timeout: Duration = .seconds(60))
        async throws -> CommandResult
    {
        try await Command.run(
            [Tools.docker, "--host", "unix://\(dockerSocket)"] + arguments, environment: dockerEnvironment,
            input: standardInput.map { .file($0.path) } ?? .none, timeout: timeout)
    }

    /// Runs the docker CLI; returns trimmed standard output, throws (with dockerd's log tail) unless it exits 0.
    @discardableResult
    func docker(_ arguments: String..., timeout: Duration = .seconds(60)) async throws -> String {
        try await docker(arguments, timeout: timeout)
    }

    @discardableResult
    func docker(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> String {
        let result = try await dockerResult(arguments, timeout: timeout)
        guard result.succeeded else {
            var stacks = ""
            if result.timedOut, let dockerd { stacks = "\n--- \(name) " + (await DockerdStacks.dump(dockerd)) }
            throw HarnessError(
                "\(name): \(result)\n--- \(name) dockerd log (tail):\n\(dockerd?.logTail(15) ?? "")\(stacks)")
        }
        return result.output
    }

    /// Waits (bounded) until something listens on TCP `port` inside `container`, read from its /proc/net/tcp and
    /// tcp6: `docker exec -d` returns before the command runs, so a client started right after a listener can be
    /// refused, and a marker it sends is lost.
    func waitForTCPListener(in container: String, port: UInt16, timeout: Duration = .seconds(10)) async throws {
        let hex = String(port, radix: 16, uppercase: true)
        let padded = String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        try await Poll.until("\(name): \(container) to listen on TCP port \(port)", timeout: timeout, interval: .milliseconds(100)) {
            try await self.dockerResult(
                ["exec", container, "grep", "-qsE", ":\(padded) [0-9A-F]+:0000 0A", "/proc/net/tcp", "/proc/net/tcp6"]
            ).succeeded
        }
    }

    /// Starts a docker CLI command that runs until it ends or is stopped (e.g. `docker exec C ping …`), its
    /// output in `<host dir>/<label>.log`, so a test can watch the output as it comes. Not tracked: stop it.
    func startDocker(label: String, _ arguments: [String]) throws(HostProcess.StartFailure) -> HostProcess {
        try HostProcess.start(
            label: "\(name)/\(label)", argv: [Tools.docker, "--host", "unix://\(dockerSocket)"] + arguments,
            logFile: directory.appendingPathComponent("\(label).log"), environment: dockerEnvironment)
    }

    /// The argv that runs `argv` inside this host's network and mount namespaces.
    func inNamespaces(_ argv: [String]) throws -> [String] {
        guard let holder else { throw HarnessError("\(name): no holder process (host not set up)") }
        return [
            Tools.nsenter, "--net=/proc/\(holder.pid)/ns/net", "--mount=/proc/\(holder.pid)/ns/mnt", "--",
        ] + argv
    }

    /// Runs a command to completion inside the host (e.g. `ip`, `busybox ping`).
    func run(_ argv: [String], timeout: Duration = .seconds(30)) async throws -> CommandResult {
        try await Command.run(try inNamespaces(argv), timeout: timeout)
    }

    /// Starts a long-running process inside the host's namespaces and cgroup, its output in
    /// `<host dir>/<label>.log`. Tracked processes are stopped (SIGTERM, then SIGKILL) first at teardown.
    func spawn(
        _ label: String, _ argv: [String], logFile: URL? = nil, environment: [String: String]? = nil,
        track: Bool = true
    ) throws -> HostProcess {
        let process = try HostProcess.start(
            label: "\(name)/\(label)", argv: joiningCgroup(try inNamespaces(argv)),
            logFile: logFile ?? directory.appendingPathComponent("\(label).log"),
            environment: environment ?? Self.daemonEnvironment)
        if track { state.withLock { $0.processes.append(process) } }
        return process
    }

    /// The most recent tracked process started with `label` (e.g. "weft").
    func process(label: String) -> HostProcess? {
        state.withLock { $0.processes.last { $0.label == "\(name)/\(label)" } }
    }

    /// The log of the most recent tracked process started with `label`.
    func processLog(label: String) -> String? {
        process(label: label)?.log()
    }

    /// The environment of processes started in a host: the test's, without `WEFT_*` (weft daemon reads its
    /// options from WEFT_SOCKET, WEFT_DRY_RUN, …; only the arguments a test gives may configure it) and
    /// `DOCKER_*`, and with a PATH without /usr/local, so dockerd finds Debian's containerd, runc and
    /// docker-proxy.
    static var daemonEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("WEFT_") && !$0.key.hasPrefix("DOCKER_")
        }
        environment["PATH"] = Executables.systemDirectories.joined(separator: ":")
        return environment
    }

    /// Wraps `argv` so the process joins the host's cgroup before it execs (so do all its descendants).
    private func joiningCgroup(_ argv: [String]) -> [String] {
        [Tools.sh, "-c", "echo $$ > \"$0\" && exec \"$@\"", cgroup.procsFile] + argv
    }

    // MARK: weft

    /// Starts `weft daemon` for this host: plugin socket in /run/docker/plugins (where dockerd discovers it),
    /// state in the host directory, runtime directory /run/weft, this host's underlay address; then waits
    /// (bounded) for the socket unless `waitForSocket` is false.
    func startWeft(arguments: [String] = [], waitForSocket: Bool = true) async throws -> HostProcess {
        let argv =
            [
                PackagePaths.weftBinary, "daemon",
                "--socket", Self.pluginSocket,
                "--state-dir", weftStateDirectory,
                "--runtime-dir", Self.weftRuntimeDirectory,
                "--advertise-address", underlayAddress,
            ] + arguments
        return try await startWeftProcess(label: "weft", argv: argv, waitForSocket: waitForSocket)
    }

    private func startWeftProcess(label: String, argv: [String], waitForSocket: Bool) async throws -> HostProcess {
        guard access(PackagePaths.weftBinary, X_OK) == 0 else {
            throw HarnessError("no weft binary at \(PackagePaths.weftBinary): build it first (swift build)")
        }
        let process = try spawn(label, argv)
        if waitForSocket {
            try await waitForPluginSocket(of: process)
        }
        return process
    }

    /// Waits (bounded) until something accepts connections on the plugin socket inside the host (a stale
    /// socket file from a killed weft does not count); fails early if `process` exits.
    func waitForPluginSocket(of process: HostProcess? = nil, timeout: Duration = .seconds(20)) async throws {
        let path = try pathInHost(Self.pluginSocket)
        try await Poll.until("\(name)'s plugin socket \(Self.pluginSocket) to accept connections", timeout: timeout) {
            if let process, !process.isRunning {
                throw HarnessError("\(process.label) exited (\(process.exitStatus ?? -1)):\n\(process.logTail())")
            }
            return UnixSocket.isListening(path)
        }
    }

    // MARK: Teardown

    /// Removes everything this host made, whatever state it is in; never throws. Returns what went wrong.
    ///
    /// Tracked processes (weft) get SIGTERM and a short grace; then every process in the host's cgroup
    /// subtree (holder, dockerd, containerd, shims, containers) and any process still in its namespaces gets
    /// SIGKILL; the cgroup directories are removed; the network namespace is deleted (its links go with it;
    /// the mount namespace, and every mount in it, ends with its last process). Last, with the namespaces
    /// still pinned, it checks that no process is left in them, and releases the pins.
    func teardown() async -> [String] {
        var problems: [String] = []
        let tracked = state.withLock { $0.processes }
        await withTaskGroup(of: Void.self) { group in
            for process in tracked { group.addTask { await process.terminate(grace: .seconds(5)) } }
        }
        let survivors = await cgroup.killAll()
        if !survivors.isEmpty { problems.append("\(name): pids \(survivors.sorted()) survived SIGKILL in the cgroup") }
        // A managed plugin runs in a cgroup `/<plugin id>` of its own, outside dockerd's --cgroup-parent; dockerd
        // removes it when it stops the plugin, but not after a SIGKILL.
        for plugin in pluginCgroups {
            let left = await plugin.killAll()
            if !left.isEmpty { problems.append("\(name): pids \(left.sorted()) survived SIGKILL in plugin cgroup \(plugin.name)") }
            for directory in await plugin.remove() { problems.append("\(name): plugin cgroup \(directory) not removed") }
        }
        let ids = Set(namespaceIDs)
        let inNamespaces = await Self.killProcesses(inNamespaces: ids)
        if !inNamespaces.isEmpty { problems.append("\(name): pids \(inNamespaces.sorted()) left in its namespaces") }
        for directory in await cgroup.remove() { problems.append("\(name): cgroup \(directory) not removed") }
        if Self.namespaceExists(netns) {
            let result = try? await Command.run([Tools.ip, "netns", "delete", netns])
            if result?.succeeded != true {
                problems.append("\(name): `ip netns delete \(netns)` failed: \(result.map { "\($0)" } ?? "")")
            }
        }
        for pid in Self.processes(inNamespaces: ids) {
            problems.append("\(name): process \(pid) (\(Leftovers.command(of: pid))) still in its namespaces")
        }
        let pins = state.withLock { state in
            defer { state.namespacePins = [] }
            return state.namespacePins
        }
        for descriptor in pins { close(descriptor) }
        return problems
    }

    /// The cgroups of this engine's managed plugins: named by the plugin IDs under `<data root>/plugins`.
    var pluginCgroups: [HostCgroup] {
        let plugins = directory.appendingPathComponent("data/plugins").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: plugins)) ?? []
        return names.filter { $0.count == 64 && $0.allSatisfy(\.isHexDigit) }.map { HostCgroup(name: $0) }
    }

    // MARK: Helpers

    static func namespaceExists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "/run/netns/\(name)")
    }

    /// `net:[4026532177]` for `/proc/<pid>/ns/net`.
    static func namespaceID(pid: pid_t, kind: String) throws -> String {
        do {
            return try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)")
        } catch {
            throw HarnessError("cannot read /proc/\(pid)/ns/\(kind): \(error)")
        }
    }

    /// Every process whose network or mount namespace is one of `ids`.
    static func processes(inNamespaces ids: Set<String>) -> [pid_t] {
        guard !ids.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
            return []
        }
        var result: [pid_t] = []
        for entry in entries {
            guard let pid = pid_t(entry), pid != getpid() else { continue }
            for kind in ["net", "mnt"] {
                if let id = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)"),
                    ids.contains(id)
                {
                    result.append(pid)
                    break
                }
            }
        }
        return result
    }

    /// SIGKILLs every process in those namespaces until none is left (bounded); returns the survivors.
    static func killProcesses(inNamespaces ids: Set<String>, timeout: Duration = .seconds(10)) async -> [pid_t] {
        var remaining: [pid_t] = []
        _ = await Poll.succeeded(timeout: timeout) {
            remaining = processes(inNamespaces: ids)
            for pid in remaining { kill(pid, SIGKILL) }
            return remaining.isEmpty
        }
        return remaining
    }
}
