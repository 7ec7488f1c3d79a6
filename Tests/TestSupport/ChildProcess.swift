import Foundation
import Glibc

/// A long-running child a test started (a daemon, a namespace holder, a `docker exec … ping`): its pid, its log
/// file (standard output and error together, appended; never a pipe nobody reads), and bounded ways to signal,
/// stop and wait for it. Started through `ProcessLauncher`, like every `Command`.
public final class ChildProcess: Sendable {
    /// A short label for logs and errors, e.g. `h1/weft`.
    public let label: String
    public let pid: pid_t
    public let logFile: URL
    public let argv: [String]

    private let process: Process

    /// How `terminate` ended the child.
    public enum StopOutcome: Equatable, Sendable {
        case alreadyExited
        case exited(Int32)
        case killed
    }

    /// Why a child could not be started.
    public enum StartFailure: Error, CustomStringConvertible {
        case cannotOpenLog(label: String, path: String, cause: String)
        case cannotStart(label: String, argv: [String], cause: String)

        public var description: String {
            switch self {
            case .cannotOpenLog(let label, let path, let cause): "\(label): cannot open its log \(path): \(cause)"
            case .cannotStart(let label, let argv, let cause):
                "\(label): cannot start `\(argv.joined(separator: " "))`: \(cause)"
            }
        }
    }

    private init(label: String, process: Process, logFile: URL, argv: [String]) {
        self.label = label
        self.process = process
        self.pid = process.processIdentifier
        self.logFile = logFile
        self.argv = argv
    }

    /// Starts `argv` (`argv[0]` a path, or a tool found by `Executables.path`) with standard input from
    /// /dev/null and its output appended to `logFile`; `environment` nil inherits the test's. Returns once the
    /// child runs (a spawn takes milliseconds; nothing here waits on another task).
    public static func start(
        label: String, argv: [String], logFile: URL, environment: [String: String]? = nil
    ) throws(StartFailure) -> ChildProcess {
        precondition(!argv.isEmpty, "an empty command")
        let descriptor = open(logFile.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .cannotOpenLog(label: label, path: logFile.path, cause: String(cString: strerror(errno)))
        }
        let log = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        defer { try? log.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Executables.path(argv[0]))
        process.arguments = Array(argv.dropFirst())
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        do {
            try ProcessLauncher.start(process)
        } catch {
            throw .cannotStart(label: label, argv: argv, cause: "\(error)")
        }
        return ChildProcess(label: label, process: process, logFile: logFile, argv: argv)
    }

    /// True until the child has exited (asked of the kernel: see `ChildStatus`).
    public var isRunning: Bool { ChildStatus.of(pid) == .running }

    /// The exit status (128 + the signal for a signal), or nil while it runs.
    public var exitStatus: Int32? {
        switch ChildStatus.of(pid) {
        case .running: return nil
        case .exited(let status, _): return status
        case .reaped:
            process.waitUntilExit()  // Foundation reaped it: returns at once
            let signaled = process.terminationReason == .uncaughtSignal
            return signaled ? 128 + process.terminationStatus : process.terminationStatus
        }
    }

    /// Sends a signal; false if the child is gone. (An exited child stays unreaped until Foundation's `Process`
    /// reaps it, so its pid is not reused while this may still name it.)
    @discardableResult
    public func signal(_ signal: Int32) -> Bool {
        guard isRunning else { return false }
        return Glibc.kill(pid, signal) == 0
    }

    /// Waits (polling, bounded) for the child to exit; true if it did.
    public func waitForExit(timeout: Duration) async -> Bool {
        await eventually(within: timeout, every: .milliseconds(20)) { !self.isRunning } != nil
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`. Returns how it ended.
    @discardableResult
    public func terminate(grace: Duration = .seconds(10)) async -> StopOutcome {
        guard isRunning else { return .alreadyExited }
        signal(SIGTERM)
        if await waitForExit(timeout: grace) { return .exited(exitStatus ?? -1) }
        await kill()
        return .killed
    }

    /// SIGKILL (after SIGCONT, for a child a test stopped), then wait (bounded) until it is gone.
    public func kill() async {
        signal(SIGCONT)
        signal(SIGKILL)
        _ = await waitForExit(timeout: .seconds(10))
    }

    /// `terminate` for synchronous callers (a `defer`): SIGTERM, SIGKILL after `grace`, and a bounded wait until
    /// the child has exited.
    @discardableResult
    public func terminateBlocking(grace: Duration = .seconds(10)) -> StopOutcome {
        guard isRunning else { return .alreadyExited }
        signal(SIGTERM)
        if waitBlocking(grace) { return .exited(exitStatus ?? -1) }
        killBlocking()
        return .killed
    }

    /// `kill` for synchronous callers (a `defer`): the caller's thread waits (bounded) until the child has exited.
    public func killBlocking() {
        signal(SIGCONT)
        signal(SIGKILL)
        _ = waitBlocking(.seconds(10))
    }

    /// Blocks (polling the kernel every 10 ms) until the child has exited or `timeout` passes; true if it exited.
    private func waitBlocking(_ timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while isRunning {
            if ContinuousClock.now >= deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// The whole log.
    public func log() -> String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// The last `lines` lines of the log, for error messages.
    public func logTail(_ lines: Int = 30) -> String {
        log().split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
