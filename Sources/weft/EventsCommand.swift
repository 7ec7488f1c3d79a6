import ArgumentParser
import Control
import DockerPlugin
import FoundationEssentials
import Glibc
import Overlay

/// `weft events`: what the daemon does and sees as it happens (membership changes, reconcile corrections, IPAM
/// claims, errors), one JSON object per line, until interrupted.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Stream the running daemon's events as JSON lines: membership changes, reconcile corrections, IPAM claims, errors.")

    @Flag(help: "Begin with the events the daemon still keeps (the newest 1024), not only new ones.")
    var all = false

    @Option(help: "The daemon's control socket (WEFT_CONTROL_SOCKET).")
    var controlSocket: String?

    func run() async throws {
        let socketPath = controlSocket ?? ProcessEnvironment.read()["WEFT_CONTROL_SOCKET"] ?? ControlServer.defaultSocketPath
        let client: PluginClient
        do {
            client = try PluginClient(path: socketPath)
        } catch {
            throw ControlConnection.Failure(
                description: "cannot reach the weft daemon at \(socketPath) (root only; --control-socket): \(error)")
        }
        let path = all ? "/events?follow&after=0" : "/events?follow"
        var notice: String?
        let reply: (status: Int, body: String)
        do {
            reply = try client.follow(path) { line in
                guard !line.isEmpty else { return true }  // the daemon's heartbeat
                if let ended = try? JSONDecoder().decode(EventStreamNotice.self, from: Data(line.utf8)) {
                    notice = ended.error
                    return false
                }
                // Straight to the descriptor, unbuffered: a reader behind a pipe sees each event as it comes.
                let bytes = Array(line.utf8) + [0x0A]
                _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
                return true
            }
        } catch {
            throw ControlConnection.Failure(description: "the weft daemon at \(socketPath) stopped sending events: \(error)")
        }
        if let notice { throw ControlConnection.Failure(description: "the weft daemon ended the event stream: \(notice)") }
        guard reply.status == 200 else {
            throw ControlConnection.Failure(
                description: "the weft daemon refused \(path) (HTTP \(reply.status)): \(ControlConnection.errorText(reply.body))")
        }
        throw ControlConnection.Failure(description: "the weft daemon at \(socketPath) ended the event stream (stopping?)")
    }
}
