import Foundation
import Netlink

/// `weft-bench`: performance figures, each set against a reference measured in the same run.
@main
struct Bench {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        switch arguments.first {
        case "netlink", nil:
            let entries = arguments.dropFirst().first.flatMap(Int.init) ?? 10_000
            try NetlinkBenchmark(entries: entries).run()
        case "control-plane":
            let cycles = arguments.dropFirst().first.flatMap(Int.init) ?? 2_000
            let weft = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("weft").path
            try ControlPlaneBenchmark(cycles: cycles, weft: weft).run()
        case "gossip":
            let nodes = arguments.dropFirst().first.flatMap(Int.init) ?? 50
            try await GossipBenchmark(size: nodes).run()
        case "endpoint-churn":
            let rounds = arguments.dropFirst().first.flatMap(Int.init) ?? 30
            try await EndpointChurnBenchmark(sizes: [10, 100, 1000], rounds: rounds).run()
        default:
            FileHandle.standardError.write(Data("usage: weft-bench netlink [ENTRIES] | control-plane [CYCLES] | gossip [NODES] | endpoint-churn [ROUNDS]\n".utf8))
            exit(2)
        }
    }
}
