import DockerPlugin
import Foundation

/// Starts `weft daemon --dry-run` and drives endpoint lifecycles through its socket the way dockerd does
/// (CreateEndpoint, Join, Leave, DeleteEndpoint on one keep-alive connection), reporting cycles per second and
/// request latency percentiles. The state directory is on the same disk as a real install's, so every
/// request pays for its durable state write.
struct ControlPlaneBenchmark {
    let cycles: Int
    let weft: String

    func run() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weft-bench-cp-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/weft.sock"
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: weft)
        daemon.arguments = ["daemon", "--dry-run", "--socket", socket, "--state-dir", directory + "/state",
                            "--runtime-dir", directory + "/run", "--log-level", "warning"]
        daemon.standardOutput = FileHandle.nullDevice
        try daemon.run()
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        let client = try connect(socket, within: .seconds(10))
        let network = String(repeating: "a", count: 64)
        _ = try check(client.post("NetworkDriver.CreateNetwork", """
            {"NetworkID":"\(network)","Options":{"com.docker.network.enable_ipv6":false,"com.docker.network.generic":{"weft.vni":"42"}},"IPv4Data":[{"AddressSpace":"LocalDefault","Gateway":"10.1.0.1/24","Pool":"10.1.0.0/24"}],"IPv6Data":[]}
            """))
        var latencies: [Double] = []
        latencies.reserveCapacity(cycles * 4)
        let start = ContinuousClock.now
        for cycle in 0..<cycles {
            let endpoint = String(format: "%064x", cycle + 1)
            let reference = #"{"NetworkID":"\#(network)","EndpointID":"\#(endpoint)"}"#
            let requests: [(String, String)] = [
                ("NetworkDriver.CreateEndpoint", #"{"NetworkID":"\#(network)","EndpointID":"\#(endpoint)","Interface":{"Address":"10.1.0.2/24","AddressIPv6":"","MacAddress":""},"Options":{}}"#),
                ("NetworkDriver.Join", #"{"NetworkID":"\#(network)","EndpointID":"\#(endpoint)","SandboxKey":"/var/run/docker/netns/x","Options":{}}"#),
                ("NetworkDriver.Leave", reference),
                ("NetworkDriver.DeleteEndpoint", reference),
            ]
            for (path, body) in requests {
                let sent = ContinuousClock.now
                _ = try check(client.post(path, body))
                latencies.append(seconds(ContinuousClock.now - sent))
            }
        }
        let total = seconds(ContinuousClock.now - start)
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 1000 }
        print("control plane (weft daemon --dry-run, state saved to \(directory)):")
        print(String(format: "  %d CreateEndpoint+Join+Leave+DeleteEndpoint cycles in %.2f s: %.0f cycles/s", cycles, total, Double(cycles) / total))
        print(String(format: "  request latency: p50 %.3f ms, p99 %.3f ms, max %.3f ms (goal: p99 < 2 ms)", percentile(0.5), percentile(0.99), latencies.last! * 1000))
    }

    private func connect(_ socket: String, within limit: Duration) throws -> PluginClient {
        let deadline = ContinuousClock.now + limit
        while true {
            do { return try PluginClient(path: socket) } catch {
                if ContinuousClock.now > deadline { throw error }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
    }

    private func check(_ response: (status: Int, body: String)) throws -> String {
        guard response.status == 200 else { throw PluginClient.Failure(description: "HTTP \(response.status): \(response.body)") }
        return response.body
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
