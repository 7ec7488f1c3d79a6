import Foundation
import TestSupport
import Testing

/// `make bench` only (WEFT_BENCH=1): iperf3 between containers on a dual-stack weft network, over IPv4 and IPv6
/// inside, first across an IPv4 underlay and then across an IPv6 one, each against host-to-host iperf3 over the
/// same underlay, in the same run.
@Suite(
    "Benchmark: IPv6 datapath (inner and underlay) against IPv4",
    .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["WEFT_BENCH"] == "1" && Privileges.canRunEndToEndTests,
             "a benchmark: run by `make bench`"),
    .timeLimit(.minutes(10))
)
struct IPv6DatapathBenchmark {
    static let rounds = 3

    struct Figures {
        var underlay: String
        var mtu: String
        var inner4: [Double] = []
        var inner6: [Double] = []
        var raw: [Double] = []
    }

    @Test("datapath: iperf3 over IPv4 and IPv6 inside, over an IPv4 and an IPv6 underlay")
    func datapath() async throws {
        let over4 = try await measure(ipv6Underlay: false)
        let over6 = try await measure(ipv6Underlay: true)
        func median(_ values: [Double]) -> Double { OverlayBenchmarks.quantile(values, 0.5) }
        func f(_ value: Double) -> String { String(format: "%.2f", value) }
        let base = median(over4.inner4)
        var lines = ["IPv6 datapath (iperf3 TCP, \(OverlayBenchmarks.iperfSeconds) s per run, \(Self.rounds) runs each, medians in Gbit/s, 2 hosts over a veth underlay):"]
        for figures in [over4, over6] {
            lines.append("  \(figures.underlay) underlay (container MTU \(figures.mtu)): inner IPv4 \(f(median(figures.inner4))), inner IPv6 \(f(median(figures.inner6))), "
                + "host to host \(f(median(figures.raw))); inner IPv6 / inner IPv4 \(f(median(figures.inner6) / median(figures.inner4))), "
                + "inner IPv4 / raw \(f(median(figures.inner4) / median(figures.raw)))")
        }
        lines.append("  IPv6 inside over IPv6 underlay / IPv4 inside over IPv4 underlay: \(f(median(over6.inner6) / base))")
        print(lines.joined(separator: "\n"))
    }

    private func measure(ipv6Underlay: Bool) async throws -> Figures {
        let underlay6 = { (host: TestHost) in "2001:db8::\(10 + host.index)" }
        let start: @Sendable (TestHost) async throws -> Void = { host in
            var arguments = ["--log-level", "warning"]
            if ipv6Underlay {
                try await host.run([Tools.ip, "-6", "addr", "add", "2001:db8::\(10 + host.index)/64", "dev", "eth0", "nodad"]).check()
                arguments += ["--advertise-address", "2001:db8::\(10 + host.index)", "--join", "[2001:db8::\(host.index == 1 ? 12 : 11)]"]
            } else {
                arguments += Cluster.joinArguments(for: host, hostCount: 2)
            }
            _ = try await host.startWeft(arguments: arguments)
        }
        return try await Cluster.with(hosts: 2, beforeDockerd: start) { cluster in
            let (a, b) = (cluster["h1"], cluster["h2"])
            try await TestImage.importIperf3Image(into: [a, b], directory: cluster.directory.appendingPathComponent("iperf3-image"))
            for host in [a, b] {
                try await host.docker("network", "create", "-d", "weft", "--ipam-driver", "weft", "--ipv6",
                                      "--subnet", "10.72.0.0/24", "--subnet", "fd00:72::/64", "bench6")
            }
            try await a.docker("run", "-d", "--name", "server", "--network", "bench6", "--ip", "10.72.0.11", "--ip6", "fd00:72::11",
                               TestImage.iperf3Reference, "iperf3", "-s", "--forceflush")
            try await b.docker("run", "-d", "--name", "client", "--network", "bench6", "--ip", "10.72.0.21", "--ip6", "fd00:72::21",
                               TestImage.iperf3Reference, "sleep", "600")
            let hostServer = try a.spawn("iperf3-server", [Tools.path("iperf3"), "-s", "--forceflush"])
            try await Poll.until("both iperf3 servers to listen", timeout: .seconds(20), interval: .milliseconds(50)) {
                let logs = try await a.dockerResult(["logs", "server"])
                return logs.stdout.contains("Server listening") && hostServer.log().contains("Server listening")
            }
            for target in ["10.72.0.11", "fd00:72::11"] {
                try await Poll.until("client to reach \(target)", timeout: .seconds(20), interval: .milliseconds(200)) {
                    try await b.dockerResult(["exec", "client", "ping", "-c", "1", "-W", "1", target])
                }
            }
            let seconds = "\(OverlayBenchmarks.iperfSeconds)"
            func inner(_ target: String) async throws -> Double {
                try OverlayBenchmarks.gigabits(try await b.docker(["exec", "client", "iperf3", "-c", target, "-t", seconds, "-J"], timeout: .seconds(60)))
            }
            func raw() async throws -> Double {
                let target = ipv6Underlay ? underlay6(a) : a.underlayAddress
                let result = try await b.run([Tools.path("iperf3"), "-c", target, "-t", seconds, "-J"], timeout: .seconds(60))
                return try OverlayBenchmarks.gigabits(try result.check().stdout)
            }
            var figures = Figures(underlay: ipv6Underlay ? "IPv6" : "IPv4",
                                  mtu: try await b.docker("exec", "client", "cat", "/sys/class/net/eth0/mtu"))
            for round in 0..<Self.rounds {
                // Rotated order, so a drift of the machine's load affects all three alike.
                let order = [0, 1, 2].map { ($0 + round) % 3 }
                for kind in order {
                    switch kind {
                    case 0: figures.inner4.append(try await inner("10.72.0.11"))
                    case 1: figures.inner6.append(try await inner("fd00:72::11"))
                    default: figures.raw.append(try await raw())
                    }
                }
            }
            await hostServer.terminate(grace: .seconds(2))
            try await a.docker("rm", "-f", "server", "client")
            return figures
        }
    }
}
