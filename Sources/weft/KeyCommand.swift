import ArgumentParser
import DockerPlugin
import FoundationEssentials
import Gossip
#if canImport(Glibc)
import Glibc
#endif

/// `weft key`: the cluster's gossip keys, on a running daemon (memberlist keyring semantics, as serf's `keys`).
///
/// Rotation with no restart and no lost packet, on every host in turn for each step: `install` the new key,
/// then `use` it, then `remove` the old one. Keys never appear on a command line: `install` reads the key from a
/// file or standard input; `use` and `remove` name keys by fingerprint.
struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Generate, list and rotate the gossip keys of a running weft daemon.",
        subcommands: [Generate.self, List.self, Install.self, Use.self, Remove.self, Show.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new random gossip key (base64 AES-256), for `weft key install` or a key file.")

        func run() { print(GossipKey.encode(GossipKey.generate())) }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the daemon's keys by fingerprint, primary first.")
        @OptionGroup var daemon: DaemonSocketOption

        func run() throws { try daemon.printKeys(try daemon.call(KeyringRequest(op: "list"))) }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a key (base64, read from FILE or standard input) to the daemon's keyring and its key file.")
        @OptionGroup var daemon: DaemonSocketOption
        @Argument(help: "A file holding the key; - or nothing for standard input.")
        var file: String = "-"

        func run() throws {
            let text: String
            if file == "-" {
                var lines: [String] = []
                while let line = readLine() { lines.append(line) }
                text = lines.joined(separator: "\n")
            } else {
                text = try String(contentsOfFile: file, encoding: .utf8)
            }
            let key = text.split(whereSeparator: \.isNewline)
                .map { String($0.filter { !$0.isWhitespace }) }
                .first { !$0.isEmpty && !$0.hasPrefix("#") } ?? ""
            do { _ = try GossipKey.decode(key, source: file == "-" ? "standard input" : file) } catch {
                throw ValidationError("\(error)")
            }
            try daemon.printKeys(try daemon.call(KeyringRequest(op: "install", key: key)))
        }
    }

    struct Use: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an installed key the primary (it encrypts from now on); install it on every host first.")
        @OptionGroup var daemon: DaemonSocketOption
        @Argument(help: "The key's fingerprint, as `weft key list` shows it.") var fingerprint: String

        func run() throws { try daemon.printKeys(try daemon.call(KeyringRequest(op: "use", fingerprint: fingerprint))) }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an installed key that is not the primary; traffic under it is refused from then on.")
        @OptionGroup var daemon: DaemonSocketOption
        @Argument(help: "The key's fingerprint, as `weft key list` shows it.") var fingerprint: String

        func run() throws {
            try daemon.printKeys(try daemon.call(KeyringRequest(op: "remove", fingerprint: fingerprint)))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the primary key (base64), to write into a new host's key file. Keep it secret.")
        @OptionGroup var daemon: DaemonSocketOption

        func run() throws {
            let reply = try daemon.call(KeyringRequest(op: "show"))
            guard let key = reply.primaryKey else { throw ValidationError("the daemon's gossip is not encrypted") }
            print(key)
        }
    }
}

/// The running daemon's plugin socket, where its control calls are served.
struct DaemonSocketOption: ParsableArguments {
    @Option(help: "The daemon's plugin socket.")
    var socket: String = PluginServerConfiguration.defaultSocketPath

    func call(_ request: KeyringRequest) throws -> KeyringResponse {
        let body = try JSONEncoder().encode(request)
        let client = try PluginClient(path: socket)
        let reply = try client.post("Weft.Keys", String(decoding: body, as: UTF8.self))
        guard reply.status == 200 else { throw ValidationError("the daemon refused: \(reply.body)") }
        return try JSONDecoder().decode(KeyringResponse.self, from: Data(reply.body.utf8))
    }

    func printKeys(_ reply: KeyringResponse) throws {
        guard !reply.fingerprints.isEmpty else {
            print("no keys: this daemon's gossip is not encrypted (--insecure-gossip)")
            return
        }
        for (index, fingerprint) in reply.fingerprints.enumerated() {
            print(index == 0 ? "\(fingerprint)  primary" : fingerprint)
        }
    }
}
