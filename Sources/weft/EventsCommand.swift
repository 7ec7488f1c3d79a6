import ArgumentParser
import Control
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
        let connection = ControlConnection(
            socketPath: controlSocket ?? ProcessEnvironment.read()["WEFT_CONTROL_SOCKET"] ?? ControlServer.defaultSocketPath)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var cursor: UInt64 = all ? 0 : try connection.get("/events?after=\(UInt64.max)", as: EventBatch.self).latest
        while !Task.isCancelled {
            let batch = try connection.get("/events?after=\(cursor)", as: EventBatch.self)
            for event in batch.events {
                // Straight to the descriptor, unbuffered: a reader behind a pipe sees each event as it comes.
                let line = Array(try encoder.encode(event)) + [0x0A]
                _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
                cursor = max(cursor, event.sequence)
            }
            // A daemon that restarted numbers from 1 again: follow it.
            if batch.latest < cursor { cursor = 0 }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}
