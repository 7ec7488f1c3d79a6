import ArgumentParser
import Control
import DockerPlugin
import FoundationEssentials
import Glibc

/// The CLI's side of the control socket: one GET, the reply decoded or its error named.
struct ControlConnection {
    let socketPath: String

    /// A failure to ask the daemon, in words.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The raw JSON reply to `GET path`.
    func get(_ path: String) throws(Failure) -> String {
        try send("GET", path)
    }

    /// The raw JSON reply to `method path` (no body).
    func send(_ method: String, _ path: String) throws(Failure) -> String {
        let client: PluginClient
        do {
            client = try PluginClient(path: socketPath)
        } catch {
            throw Failure(description: "cannot reach the weft daemon at \(socketPath) (root only; --control-socket): \(error)")
        }
        let reply: (status: Int, body: String)
        do { reply = try client.request(method, path) } catch {
            throw Failure(description: "the weft daemon at \(socketPath) did not answer \(path): \(error)")
        }
        guard reply.status == 200 else {
            throw Failure(description: "the weft daemon refused \(path) (HTTP \(reply.status)): \(Self.errorText(reply.body))")
        }
        return reply.body
    }

    func get<T: Decodable>(_ path: String, as type: T.Type) throws(Failure) -> T {
        try decode(try get(path), from: path, as: type)
    }

    func decode<T: Decodable>(_ body: String, from path: String, as type: T.Type) throws(Failure) -> T {
        do { return try JSONDecoder().decode(type, from: Data(body.utf8)) } catch {
            throw Failure(description: "the weft daemon's reply to \(path) does not decode (\(error)): a different weft version?")
        }
    }

    /// The `Err` of an error reply, or the body as it is.
    static func errorText(_ body: String) -> String {
        (try? JSONDecoder().decode(ErrorText.self, from: Data(body.utf8)))?.Err ?? body
    }

    private struct ErrorText: Decodable {
        let Err: String
    }
}

/// The options every command that asks the daemon shares.
struct ControlOptions: ParsableArguments {
    @Option(help: "The daemon's control socket (WEFT_CONTROL_SOCKET).")
    var controlSocket: String?

    @Flag(help: "Print the daemon's JSON instead of text.")
    var json = false

    var connection: ControlConnection {
        ControlConnection(socketPath: controlSocket ?? ProcessEnvironment.read()["WEFT_CONTROL_SOCKET"] ?? ControlServer.defaultSocketPath)
    }

    /// Prints the reply to `path`: its JSON, or `format` of it.
    func show<T: Decodable>(_ path: String, as type: T.Type, _ format: (T) -> String) throws {
        if json {
            print(try connection.get(path))
        } else {
            print(format(try connection.get(path, as: type)))
        }
    }
}

/// A line on standard error.
func printError(_ text: String) {
    let line = Array("Error: \(text)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
