import Foundation
import TestSupport
import Testing

/// `make bench` only (WEFT_BENCH=1): iperf3 between containers on two hosts over an encrypted weft network
/// (inside WireGuard) and a plain one beside it, in the same run: the throughput ratio, the round trips, and the
/// machine's CPU per Gbit/s (from /proc/stat), with the WireGuard backend named. Docker's own `--opt encrypted`
/// overlay is the reference where the kernel has ESP; where it has not, the benchmark says so.
@Suite(
    "Benchmark: encrypted networks (WireGuard) against plain",
    .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["WEFT_BENCH"] == "1" && Privileges.canRunEndToEndTests,
             "a benchmark: run by `make bench`"),
    .timeLimit(.minutes(10))
)
struct EncryptedDatapathBenchmark {
    static let rounds = 3

    /// Busy and total jiffies of the whole machine (the first line of /proc/stat).
    struct CPUTime {
        var busy: Double
        var total: Double

        static func now() throws -> CPUTime {
            let text = try String(contentsOfFile: "/proc/stat", encoding: .utf8)
            guard let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else { throw HarnessError("no cpu line in /proc/stat") }
            let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            guard values.count >= 5 else { throw HarnessError("short cpu line in /proc/stat: \(line)") }
            let idle = values[3] + values[4]  // idle, iowait
            return CPUTime(busy: values.prefix(8).reduce(0, +) - idle, total: values.prefix(8).reduce(0, +))
        }
    }

    struct Run {
        var gigabits: Double
        /// CPU cores busy on the whole machine while the run lasted.
        var cores: Double
        /// CPU cores the hosts' wireguard-go processes used while the run lasted.
        var wireGuardCores: Double
    }

    /// CPU seconds (user + system) of the wireguard-go processes that are children of `parents` (the wefts).
    static func wireGuardCPUSeconds(children parents: [pid_t]) -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var total = 0.0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")"), stat[..<close].hasSuffix("(wireguard-go")
            else { continue }
            // After "pid (comm) ": state, ppid, …, utime (field 14), stime (15).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let ppid = Int32(fields[1]), parents.contains(ppid),
                let user = Double(fields[11]), let system = Double(fields[12])
            else { continue }
            total += (user + system) / ticks
        }
        return total
    }

    @Test("encrypted / plain: iperf3 throughput, round trips and CPU per Gbit/s, same run; Docker's ESP overlay where the kernel can")
    func encryptedAgainstPlain() async throws {
        try await Cluster.with(hosts: 2, beforeDockerd: { host in
            _ = try await host.startWeft(arguments: ["--log-level", "notice"] + Cluster.joinArguments(for: host, hostCount: 2))
        }) { cluster in
            let (a, b) = (cluster["h1"], cluster["h2"])
            try await TestImage.importIperf3Image(into: [a, b], directory: cluster.directory.appendingPathComponent("iperf3-image"))
            let networks = [("enc", "10.73.0", ["-o", "encrypted"]), ("plain", "10.74.0", [])]
            for host in [a, b] {
                for (name, prefix, options) in networks {
                    try await host.docker(["network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "\(prefix).0/24"] + options + [name])
                }
            }
            for (name, prefix, _) in networks {
                try await a.docker("run", "-d", "--name", "server-\(name)", "--network", name, "--ip", "\(prefix).11",
                                   TestImage.iperf3Reference, "iperf3", "-s", "--forceflush")
                try await b.docker("run", "-d", "--name", "client-\(name)", "--network", name, "--ip", "\(prefix).21",
                                   TestImage.iperf3Reference, "sleep", "600")
                try await Poll.until("server-\(name) to listen", timeout: .seconds(20), interval: .milliseconds(50)) {
                    try await a.dockerResult(["logs", "server-\(name)"]).stdout.contains("Server listening")
                }
                try await Poll.until("client-\(name) to reach its server", timeout: .seconds(45), interval: .milliseconds(300)) {
                    try await b.dockerResult(["exec", "client-\(name)", "ping", "-c", "1", "-W", "1", "\(prefix).11"])
                }
            }
            let status = try await b.run([PackagePaths.weftBinary, "status"]).check().stdout
            let backend = status.split(separator: "\n").first { $0.hasPrefix("wireguard:") }.map(String.init) ?? "wireguard: (not in weft status)"
            let seconds = "\(OverlayBenchmarks.iperfSeconds)"
            let wefts = [a, b].compactMap { $0.process(label: "weft")?.pid }
            func run(_ name: String, _ prefix: String) async throws -> Run {
                let before = try CPUTime.now()
                let wireGuardBefore = Self.wireGuardCPUSeconds(children: wefts)
                let started = ContinuousClock.now
                let json = try await b.docker(["exec", "client-\(name)", "iperf3", "-c", "\(prefix).11", "-t", seconds, "-J"], timeout: .seconds(60))
                let elapsed = ContinuousClock.now - started
                let wireGuard = Self.wireGuardCPUSeconds(children: wefts) - wireGuardBefore
                let after = try CPUTime.now()
                let cores = (after.busy - before.busy) / max(1, after.total - before.total) * Double(ProcessInfo.processInfo.activeProcessorCount)
                let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                return Run(gigabits: try OverlayBenchmarks.gigabits(json), cores: cores, wireGuardCores: wireGuard / max(wall, 0.001))
            }
            var results: [String: [Run]] = [:]
            for round in 0..<Self.rounds {
                for index in [0, 1].map({ ($0 + round) % 2 }) {
                    let (name, prefix, _) = networks[index]
                    results[name, default: []].append(try await run(name, prefix))
                }
            }
            var rtt: [String: String] = [:]
            for (name, prefix, _) in networks {
                let ping = try await b.docker("exec", "client-\(name)", "ping", "-c", "20", "-i", "0.2", "\(prefix).11")
                rtt[name] = ping.split(separator: "\n").first { $0.contains("min/avg/max") }.map { String($0.split(separator: "=").last ?? "") }
                    .map { $0.trimmingCharacters(in: .whitespaces) } ?? "?"
            }
            func median(_ values: [Double]) -> Double { OverlayBenchmarks.quantile(values, 0.5) }
            func f(_ value: Double) -> String { String(format: "%.2f", value) }
            let encrypted = median(results["enc"]!.map(\.gigabits))
            let plain = median(results["plain"]!.map(\.gigabits))
            func coresPerGbit(_ name: String) -> String {
                f(median(results[name]!.map { $0.cores / max($0.gigabits, 0.001) }))
            }
            let wireGuardPerGbit = f(median(results["enc"]!.map { $0.wireGuardCores / max($0.gigabits, 0.001) }))
            let wireGuardCores = f(median(results["enc"]!.map(\.wireGuardCores)))
            let esp = try await Self.dockerESPProbe(on: a)
            print("""
            Encrypted networks (iperf3 TCP, \(seconds) s per run, \(Self.rounds) runs each, medians; 2 hosts over a veth underlay, one machine):
              \(backend)
              encrypted \(f(encrypted)) Gbit/s, plain \(f(plain)) Gbit/s: encrypted / plain \(f(encrypted / max(plain, 0.001)))
              round trip min/avg/max: encrypted \(rtt["enc"] ?? "?"), plain \(rtt["plain"] ?? "?")
              wireguard-go (both hosts, /proc/<pid>/stat): \(wireGuardCores) cores busy while encrypted runs, \(wireGuardPerGbit) cores per Gbit/s
              machine CPU (cores busy per Gbit/s, /proc/stat over the run, every process on the shared machine, \(ProcessInfo.processInfo.activeProcessorCount) cores): encrypted \(coresPerGbit("enc")), plain \(coresPerGbit("plain"))
              Docker's --opt encrypted overlay (ESP): \(esp)
            """)
            #expect(encrypted > 0 && plain > 0)
            for (name, _, _) in networks { try await a.docker("rm", "-f", "server-\(name)"); try await b.docker("rm", "-f", "client-\(name)") }
        }
    }

    /// Whether this kernel could carry Docker's encrypted overlay: an ESP state with its cipher
    /// (`rfc4106(gcm(aes))`) added and removed in a host's namespace.
    static func dockerESPProbe(on host: TestHost) async throws -> String {
        let add = try await host.run([Tools.ip, "xfrm", "state", "add", "src", "192.0.2.250", "dst", "192.0.2.251", "proto", "esp",
                                      "spi", "0x7e57", "mode", "transport", "aead", "rfc4106(gcm(aes))",
                                      "0x0102030405060708091011121314151617181920", "64"])
        guard add.succeeded else {
            let reason = (add.stderr + add.stdout).trimmingCharacters(in: .whitespacesAndNewlines)
            return "not measured: this kernel refuses an ESP state with Docker's cipher rfc4106(gcm(aes)) (\(reason)), so Docker's encrypted overlay cannot run here"
        }
        _ = try await host.run([Tools.ip, "xfrm", "state", "flush"])
        return "the kernel has ESP with rfc4106(gcm(aes)); the side-by-side run needs a swarm (not measured by this benchmark)"
    }
}
