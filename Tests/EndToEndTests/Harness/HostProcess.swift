import Foundation
import Glibc

/// A long-running process the harness started (a namespace holder, a dockerd, a weft): its pid, its log file
/// (standard output and error together), and bounded ways to stop it.
final class HostProcess: Sendable {
    /// A short label for logs and errors, e.g. `h1/weft`.
    let label: String
    let pid: pid_t
    let logFile: URL
    let argv: [String]
    private let process: Process

    private init(label: String, process: Process, logFile: URL, argv: [String]) {
        self.label = label
        self.process = process
        self.pid = process.processIdentifier
        self.logFile = logFile
        self.argv = argv
    }

    /// Starts `argv` with standard input from /dev/null and its output appended to `logFile`.
    static func start(label: String, argv: [String], logFile: URL, environment: [String: String]? = nil) throws
        -> HostProcess
    {
        if !FileManager.default.fileExists(atPath: logFile.path) {
            _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: logFile)
        defer { try? log.close() }
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        do {
            try Spawn.start(process)
        } catch {
            throw HarnessError("\(label): cannot start `\(argv.joined(separator: " "))`: \(error)")
        }
        return HostProcess(label: label, process: process, logFile: logFile, argv: argv)
    }

    var isRunning: Bool { process.isRunning }

    /// The exit status, or nil while it runs.
    var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }

    /// Sends a signal; false if the process is gone.
    @discardableResult
    func signal(_ signal: Int32) -> Bool {
        guard process.isRunning else { return false }
        return Glibc.kill(pid, signal) == 0
    }

    /// Waits (polling, bounded) for the process to exit; true if it did.
    func waitForExit(timeout: Duration) async -> Bool {
        await Poll.succeeded(timeout: timeout) { !self.process.isRunning }
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`. Returns how it ended.
    @discardableResult
    func stop(grace: Duration = .seconds(10)) async -> StopOutcome {
        guard process.isRunning else { return .alreadyExited }
        signal(SIGTERM)
        if await waitForExit(timeout: grace) { return .exited(process.terminationStatus) }
        await kill()
        return .killed
    }

    /// SIGKILL, and wait until it is gone.
    func kill() async {
        signal(SIGKILL)
        _ = await waitForExit(timeout: .seconds(10))
    }

    enum StopOutcome: Equatable, Sendable {
        case alreadyExited
        case exited(Int32)
        case killed
    }

    /// The whole log.
    func log() -> String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// The last `lines` lines of the log, for error messages.
    func logTail(_ lines: Int = 30) -> String {
        log().split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
