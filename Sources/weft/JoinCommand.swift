import ArgumentParser
import DockerPlugin
import FoundationEssentials

/// `weft join`: asks a running daemon to join more gossip seeds.
struct JoinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Ask the running weft daemon to join more hosts (gossip seeds, host[:port]).")

    @Option(help: "The daemon's plugin socket.")
    var socket: String = PluginServerConfiguration.defaultSocketPath

    @Argument(help: "Hosts to join, host[:port].")
    var seeds: [String]

    func run() throws {
        let body = try JSONEncoder().encode(JoinSeedsRequest(seeds: seeds))
        let client = try PluginClient(path: socket)
        let reply = try client.post("Weft.Join", String(decoding: body, as: UTF8.self))
        guard reply.status == 200 else { throw ValidationError("the daemon refused: \(reply.body)") }
        let answered = try JSONDecoder().decode(JoinSeedsResponse.self, from: Data(reply.body.utf8)).answered
        print("joined: \(answered) of \(seeds.count) seeds answered")
    }
}
