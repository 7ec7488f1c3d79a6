import ArgumentParser
import Control

/// `weft status`: the running daemon's view of this host and the cluster, from its control socket.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the running weft daemon sees: the host, its peers, its networks.",
        subcommands: [Summary.self, Peers.self, Networks.self, Network.self],
        defaultSubcommand: Summary.self)

    struct Summary: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "summary",
            abstract: "Version, uptime, gossip members by state, networks, IPAM, the last repair pass and the health in words.")

        @OptionGroup var options: ControlOptions

        func run() throws {
            try options.show("/status", as: DaemonStatus.self, StatusText.summary)
        }
    }

    struct Peers: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every gossip member: state, since when, why it is not alive, protocol versions, endpoints.")

        @OptionGroup var options: ControlOptions

        func run() throws {
            try options.show("/status/peers", as: [PeerStatus].self, StatusText.peers)
        }
    }

    struct Networks: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every weft network on this host, with its endpoints and hosts.")

        @OptionGroup var options: ControlOptions

        func run() throws {
            try options.show("/status/networks", as: [NetworkStatus].self, StatusText.networks)
        }
    }

    struct Network: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One network: subnet, VNI, MTU, local endpoints (ID, IP, MAC), remote endpoints (IP, MAC, host), hosts.")

        @Argument(help: "The network's Docker ID, an ID prefix (4 characters or more) or its VNI.")
        var network: String

        @OptionGroup var options: ControlOptions

        func run() throws {
            try options.show("/status/networks/\(network)", as: NetworkStatus.self, StatusText.network)
        }
    }
}

/// `weft diff`: the kernel compared with what weft wants; exit 0 when they match, 1 when they differ, 2 on error.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare the kernel with what weft wants, per network, as the ip/bridge commands that would fix it.",
        discussion: "Read-only. Exit status 0 when the kernel matches, 1 when it differs, 2 when the daemon cannot be asked.")

    @Argument(help: "One network: its Docker ID, an ID prefix or its VNI (default: all).")
    var network: String?

    @OptionGroup var options: ControlOptions

    func run() throws {
        let path = network.map { "/diff/\($0)" } ?? "/diff"
        let connection = options.connection
        do {
            let body = try connection.get(path)
            let report = try connection.decode(body, from: path, as: DiffReport.self)
            print(options.json ? body : StatusText.diff(report))
            if !report.matches { throw ExitCode(1) }
        } catch let error as ControlConnection.Failure {
            printError(error.description)
            throw ExitCode(2)
        }
    }
}
