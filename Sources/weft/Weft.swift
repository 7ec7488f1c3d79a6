import ArgumentParser

/// The `weft` command: the daemon and the commands that look into it.
@main
struct Weft: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weft",
        abstract: "A VXLAN overlay network driver and IPAM driver for Docker.",
        version: WeftVersion.current,
        subcommands: [DaemonCommand.self, StatusCommand.self, DiffCommand.self, EventsCommand.self, JoinCommand.self, KeyCommand.self, EncryptionCommand.self, StateCommand.self, GossipCommand.self, NetlinkCommand.self, VersionCommand.self]
    )
}

enum WeftVersion {
    static let current = "0.1.0-dev"
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print weft's version.")

    func run() {
        print("weft \(WeftVersion.current)")
    }
}
