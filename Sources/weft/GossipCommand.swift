import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Gossip
import Logging
import UnixSignals

/// `weft gossip`: the gossip layer on its own, without Docker, for tests and operators.
struct GossipCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gossip",
        abstract: "Run the gossip layer alone, or list a gossip node's members.",
        subcommands: [GossipRunCommand.self, GossipMembersCommand.self]
    )
}

/// Options both gossip commands share.
struct GossipKeyOptions: ParsableArguments {
    @Option(name: .long, help: "A base64 AES key (16, 24 or 32 bytes), as serf's -encrypt; repeat for a keyring, primary first.")
    var encrypt: [String] = []

    @Option(name: .long, help: "A file of base64 keys, one per line, primary first (mode 0600), as `weft daemon` keeps them.")
    var keyFile: String?

    func wireConfig() throws -> WireConfig {
        if let keyFile {
            guard encrypt.isEmpty else { throw ValidationError("give either --encrypt or --key-file, not both") }
            do { return WireConfig(keyring: try Keyring(keys: try GossipKeyFile(path: keyFile).read())) } catch {
                throw ValidationError("\(error)")
            }
        }
        return try Self.wireConfig(keys: encrypt, source: "--encrypt")
    }

    /// Plaintext without keys, else encryption with the keyring of `keys` (base64, primary first); errors
    /// name `source`, the option or variable the keys came from.
    static func wireConfig(keys texts: [String], source: String) throws -> WireConfig {
        guard !texts.isEmpty else { return WireConfig() }
        var keys: [[UInt8]] = []
        for (index, text) in texts.enumerated() {
            do {
                keys.append(try GossipKey.decode(text, source: texts.count == 1 ? source : "\(source) (key \(index + 1))"))
            } catch {
                throw ValidationError("\(error)")
            }
        }
        do {
            return WireConfig(keyring: try Keyring(keys: keys))
        } catch {
            throw ValidationError("\(source): \(error)")
        }
    }
}

/// `weft gossip run`: a gossip node until SIGTERM or SIGINT, which make it leave gracefully.
struct GossipRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a gossip node (memberlist protocol, serf-compatible) until interrupted.")

    @Option(name: .long, help: "The node's name (default: the host name).")
    var name: String?

    @Option(name: .long, help: "The address and port to bind, UDP and TCP.")
    var bind: String = "0.0.0.0:7946"

    @Option(name: .long, help: "The address and port peers reach this node at (default: the bind address).")
    var advertise: String?

    @Option(name: .long, help: "A seed to join, host:port; repeat for several.")
    var join: [String] = []

    @Option(name: .long, help: "A tag key=value shown by serf members; repeat for several.")
    var tag: [String] = []

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @OptionGroup var keys: GossipKeyOptions

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level: \"\(logLevel)\" is not a log level")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "weft.gossip")
        guard let bindAddress = GossipAddress(parsing: bind) else { throw ValidationError("--bind: expected a.b.c.d:port") }
        var advertiseAddress: GossipAddress?
        if let advertise {
            guard let parsed = GossipAddress(parsing: advertise, defaultPort: 0) else {
                throw ValidationError("--advertise: expected a.b.c.d[:port]")
            }
            advertiseAddress = parsed
        } else if bindAddress.ip == .v4(IPv4Address(0)) {
            throw ValidationError("--advertise is needed when binding to 0.0.0.0")
        }
        let seeds = try join.map { text in
            guard let seed = GossipAddress(parsing: text) else { throw ValidationError("--join: \"\(text)\" is not host:port") }
            return seed
        }
        var tags: [String: String] = [:]
        for pair in tag {
            guard let equals = pair.firstIndex(of: "=") else { throw ValidationError("--tag: \"\(pair)\" is not key=value") }
            tags[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        var configuration = GossipConfiguration(name: name ?? Self.hostName(), tags: tags, logger: logger)
        configuration.wire = try keys.wireConfig()
        // serf and memberlist compress their gossip packets by default; this tool is for meeting them. The
        // daemon, which serves only weft hosts, refuses compressed UDP.
        configuration.acceptCompressedPackets = true

        let transport = try await NIOGossipTransport.bind(bindAddress, advertise: advertiseAddress)
        let node = try GossipNode(configuration: configuration, transport: transport)
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        await node.start()
        logger.info("gossip node running", metadata: ["name": "\(node.name)", "address": "\(transport.localAddress)"])
        let events = Task {
            for await event in node.events {
                logger.info("member \(Self.describe(event))", metadata: ["member": "\(event.member)"])
            }
        }
        if !seeds.isEmpty {
            do {
                let count = try await node.join(seeds)
                logger.info("joined the cluster", metadata: ["seeds answered": "\(count)"])
            } catch {
                logger.error("could not join", metadata: ["error": "\(error)"])
            }
        }
        for await signal in signals {
            logger.info("leaving the cluster", metadata: ["signal": "\(signal)"])
            break
        }
        await node.leave(timeout: .seconds(5))
        await node.stop()
        events.cancel()
    }

    static func describe(_ event: MembershipEvent) -> String {
        switch event {
        case .join: "joined"
        case .update: "updated"
        case .suspect: "suspected"
        case .dead: "failed"
        case .left: "left"
        }
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "weft" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// `weft gossip members`: a node's membership view, read with a push/pull that does not join.
struct GossipMembersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "members",
        abstract: "List the members a gossip node (weft, serf or memberlist) knows, with state, incarnation, address and tags.")

    @Option(name: .long, help: "The node to ask, host:port (its gossip port).")
    var peer: String = "127.0.0.1:7946"

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var keys: GossipKeyOptions

    func run() async throws {
        guard let address = GossipAddress(parsing: peer) else { throw ValidationError("--peer: expected a.b.c.d:port or [v6]:port") }
        let members = try await MembershipQuery.members(of: address, wire: try keys.wireConfig())
        if json {
            let rows = members.map { member in
                "{\"name\":\(Self.quoted(member.name)),\"addr\":\(Self.quoted(member.address.description)),"
                    + "\"status\":\(Self.quoted(member.state.description)),\"incarnation\":\(member.incarnation),"
                    + "\"tags\":{\(member.tags.sorted { $0.key < $1.key }.map { "\(Self.quoted($0.key)):\(Self.quoted($0.value))" }.joined(separator: ","))}}"
            }
            print("[" + rows.joined(separator: ",") + "]")
            return
        }
        let header = ["NAME", "ADDRESS", "STATE", "INCARNATION", "TAGS"]
        let rows = members.map { member in
            [
                member.name, member.address.description, Self.state(of: member), "\(member.incarnation)",
                member.tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            let cells = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
            }
            print(cells.joined())
        }
    }

    /// The state, and for a member that left with a reason, the reason: a host that left because it had
    /// nothing to do reads as such, not as a flapping member.
    static func state(of member: Member) -> String {
        guard member.state == .left, let reason = member.tags[GossipNode.leaveReasonTag] else { return member.state.description }
        return "left (\(reason))"
    }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
