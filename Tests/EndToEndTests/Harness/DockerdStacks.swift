import Foundation
import Glibc
import TestSupport

/// dockerd's goroutine stacks, for a docker command that hung: SIGUSR1 makes dockerd write them to a file and
/// log its path; the summary groups the goroutines blocked for a minute or more by where they wait, so a
/// deadlock in dockerd shows in a test's failure message without the whole dump.
enum DockerdStacks {
    /// Asks `dockerd` for its stacks (bounded: 10 s) and returns the dump's path and the summary.
    static func dump(_ dockerd: HostProcess) async -> String {
        let marker = "goroutine stacks written to "
        let before = dockerd.log().components(separatedBy: marker).count
        guard dockerd.signal(SIGUSR1) else { return "(dockerd is not running: no goroutine dump)" }
        var path: String?
        _ = await Poll.succeeded(timeout: .seconds(10), interval: .milliseconds(100)) {
            let parts = dockerd.log().components(separatedBy: marker)
            guard parts.count > before, let last = parts.last else { return false }
            path = last.split(whereSeparator: { $0 == "\"" || $0 == "\n" || $0 == " " }).first.map(String.init)
            return path != nil
        }
        guard let path, let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return "(dockerd wrote no goroutine dump within 10 s)"
        }
        return "dockerd goroutine dump: \(path)\n" + summary(of: text)
    }

    /// The goroutines in dockerd's own request and event handling (daemon, libnetwork, plugin client) that have
    /// waited a minute or more, grouped by state and their first docker frames, largest groups first. (Stream
    /// copiers and containerd clients wait for minutes by design; they are left out.)
    static func summary(of dump: String, frames: Int = 8, groups: Int = 6) -> String {
        let interesting = ["docker/docker/daemon.", "libnetwork", "docker/pkg/plugins", "docker/libcontainerd"]
        var counts: [String: Int] = [:]
        var total = 0
        for block in dump.components(separatedBy: "\n\n") {
            let lines = block.split(separator: "\n").map(String.init)
            guard let header = lines.first, header.hasPrefix("goroutine "), header.contains("minutes") else { continue }
            let functions = lines.dropFirst().filter { !$0.hasPrefix("\t") }
                .map(functionName)
            let docker = functions.filter { function in interesting.contains { function.contains($0) } }
            guard !docker.isEmpty else { continue }
            total += 1
            let state = header.split(separator: "[").last.map { "[" + $0 } ?? header
            let top = functions.prefix(2) + docker.prefix(frames).filter { !functions.prefix(2).contains($0) }
            counts[([state] + top).joined(separator: "\n    "), default: 0] += 1
        }
        guard total > 0 else { return "no daemon, libnetwork or plugin goroutine has waited a minute or more" }
        // Sockets waiting for I/O (the embedded DNS, plugin listeners) are idle by design: the other groups first.
        let top = counts.sorted { ($0.key.contains("[IO wait") ? 1 : 0, -$0.value) < ($1.key.contains("[IO wait") ? 1 : 0, -$1.value) }
            .prefix(groups)
        return "\(total) daemon/libnetwork/plugin goroutines waiting a minute or more; the largest groups:\n"
            + top.map { "  \($0.value) × \($0.key)" }.joined(separator: "\n")
    }

    /// `pkg.(*T).Method(0xc0…, …)` → `pkg.(*T).Method`.
    static func functionName(_ frame: String) -> String {
        guard frame.hasSuffix(")"), let open = frame.range(of: "(", options: .backwards) else { return frame }
        return String(frame[..<open.lowerBound])
    }
}
