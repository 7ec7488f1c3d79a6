import ArgumentParser
import Netlink

/// `weft netlink`: exercise and inspect the netlink layer by hand.
struct NetlinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netlink",
        abstract: "Exercise and inspect weft's netlink layer.",
        subcommands: [Scenario.self, Show.self]
    )

    struct Scenario: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a sample VXLAN network namespace: bridge, VXLAN port, veths, FDB and neighbour entries.",
            discussion: """
                With --dry-run nothing is changed and no root is needed: every request is printed as the \
                iproute2 command that makes the same change. Without it the scenario runs for real in two \
                throwaway namespaces (one standing for the host), prints what the kernel then reports, and \
                removes both unless --keep is given.
                """
        )

        @Flag(help: "Print the requests instead of sending them to the kernel.")
        var dryRun = false

        @Flag(help: "With --dry-run, also print each request's bytes in hex.")
        var bytes = false

        @Flag(help: "Keep the namespaces the real run creates.")
        var keep = false

        @Option(help: "The VXLAN network identifier.")
        var vni: UInt32 = 42

        @Option(help: "How many remote endpoints to program.")
        var remotes: Int = 50

        func run() throws {
            guard let vni = VNI(vni) else { throw ValidationError("--vni must be between 1 and 16777215") }
            let scenario = NetlinkScenario(vni: vni, remoteEndpoints: remotes)
            let networkName = "weft-demo-\(vni)"
            if dryRun {
                let backend = DryRunBackend(showBytes: bytes)
                let host = try backend.openNamespace(.current)
                try scenario.run(on: backend, host: host, network: .named(networkName))
                return
            }
            let backend = KernelBackend()
            let hostReference = NamespaceReference.named("weft-demo-host-\(vni)")
            let host = try backend.createNamespace(hostReference)
            defer {
                if !keep {
                    try? backend.deleteNamespace(hostReference)
                    try? backend.deleteNamespace(.named(networkName))
                }
            }
            let network = try scenario.run(on: backend, host: host, network: .named(networkName))
            try Show.report(try backend.session(in: network))
            if keep { print("kept namespaces \(hostReference) and \(networkName)") }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the links, FDB and neighbour entries of a namespace as weft's parser reads them.")

        @Option(name: .shortAndLong, help: "A namespace name under /run/netns, or a path; default: the current one.")
        var namespace: String?

        func run() throws {
            let reference: NamespaceReference =
                switch namespace {
                case nil: .current
                case let value? where value.contains("/"): .path(value)
                case let value?: .named(value)
                }
            try Self.report(try KernelBackend().session(in: reference))
        }

        static func report(_ session: NetlinkSession) throws {
            let links = try session.links()
            let names = Dictionary(uniqueKeysWithValues: links.map { ($0.index, $0.name) })
            func name(_ reference: LinkReference) -> String {
                if case .index(let index) = reference { return names[index] ?? "#\(index)" }
                return reference.description
            }
            print("links in \(session.namespace.reference):")
            for link in links {
                var line = "  \(link.index): \(link.name) \(link.kind ?? "-") mtu \(link.mtu.map(String.init) ?? "-")"
                line += " \(link.isUp ? "up" : "down")"
                if let mac = link.mac { line += " \(mac)" }
                if let master = link.master { line += " master \(names[master] ?? "#\(master)")" }
                if let vxlan = link.vxlan {
                    line += " vni \(vxlan.vni) dstport \(vxlan.port) local \(vxlan.local.map(\.description) ?? "-")"
                    line += vxlan.learning ? " learning" : " nolearning"
                    line += vxlan.proxy ? " proxy" : " noproxy"
                }
                print(line)
            }
            let fdb = try session.forwardingDatabase()
            print("fdb (\(fdb.count) entries):")
            for entry in fdb {
                let destination = entry.destination.map { " dst \($0)" } ?? ""
                print("  \(entry.mac) dev \(name(entry.device))\(destination) \(entry.table == .device ? "self" : "master") \(entry.state)")
            }
            let neighbours = try session.neighbours()
            print("neighbours (\(neighbours.count) entries):")
            for entry in neighbours {
                print("  \(entry.address) lladdr \(entry.mac.map(\.description) ?? "-") dev \(name(entry.device)) \(entry.state)")
            }
        }
    }
}
