import Foundation
import Netlink

/// `weft-bench`: performance figures, each set against a reference measured in the same run.
@main
struct Bench {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        switch arguments.first {
        case "netlink", nil:
            let entries = arguments.dropFirst().first.flatMap(Int.init) ?? 10_000
            try NetlinkBenchmark(entries: entries).run()
        default:
            FileHandle.standardError.write(Data("usage: weft-bench [netlink [ENTRIES]]\n".utf8))
            exit(2)
        }
    }
}
