import Foundation
import Testing

/// `make bench` only (WEFT_BENCH=1): how long `docker run --rm --network NET IMAGE true` takes on a weft network
/// against a Docker bridge network on the same engine, interleaved run by run so both see the same machine.
@Suite(
    "Benchmark: container start, weft against Docker's bridge",
    .enabled(if: ProcessInfo.processInfo.environment["WEFT_BENCH"] == "1" && Privileges.canRunEndToEndTests,
             "a benchmark: run by `make bench`")
)
struct ContainerStartBenchmark {
    static let runs = 20

    @Test func containerStart() async throws {
        try await Cluster.with(hosts: 1, beforeDockerd: { host in _ = try await host.startWeft(arguments: ["--log-level", "warning"]) }) {
            cluster in
            let host = cluster["h1"]
            try await host.docker("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "10.50.0.0/24", "weftnet")
            try await host.docker("network", "create", "-d", "bridge", "--subnet", "10.51.0.0/24", "bridgenet")
            // For the record: an --internal weft network, whose containers Docker does not also attach to
            // docker_gwbridge (weft gives no gateway, so every other weft container gets that second endpoint).
            try await host.docker("network", "create", "-d", "weft", "--ipam-driver", "weft", "--internal", "--subnet", "10.52.0.0/24", "weftinternal")
            func timeRun(_ network: String) async throws -> Double {
                let start = ContinuousClock.now
                try await host.docker("run", "--rm", "--network", network, TestImage.reference, "true")
                let elapsed = ContinuousClock.now - start
                return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            }
            _ = try await timeRun("weftnet")  // warm-up: first use of each network
            _ = try await timeRun("bridgenet")
            _ = try await timeRun("weftinternal")
            var weft: [Double] = []
            var bridge: [Double] = []
            var internalOnly: [Double] = []
            for round in 0..<Self.runs {
                if round.isMultiple(of: 2) {
                    weft.append(try await timeRun("weftnet"))
                    bridge.append(try await timeRun("bridgenet"))
                    internalOnly.append(try await timeRun("weftinternal"))
                } else {
                    internalOnly.append(try await timeRun("weftinternal"))
                    bridge.append(try await timeRun("bridgenet"))
                    weft.append(try await timeRun("weftnet"))
                }
            }
            func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
            let ratio = median(weft) / median(bridge)
            print(String(format: "container start (docker run --rm true, %d runs each, interleaved):", Self.runs))
            print(String(format: "  weft network:   median %.0f ms (min %.0f, max %.0f)", median(weft) * 1000, weft.min()! * 1000, weft.max()! * 1000))
            print(String(format: "  bridge network: median %.0f ms (min %.0f, max %.0f)", median(bridge) * 1000, bridge.min()! * 1000, bridge.max()! * 1000))
            print(String(format: "  ratio weft / bridge: %.2f (goal <= 1.10)", ratio))
            print(String(format: "  weft --internal network (no docker_gwbridge endpoint): median %.0f ms, ratio to bridge %.2f",
                         median(internalOnly) * 1000, median(internalOnly) / median(bridge)))
            try await host.docker("network", "rm", "weftnet", "bridgenet", "weftinternal")
        }
    }
}
