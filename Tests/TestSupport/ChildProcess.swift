import Foundation
import Glibc
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A long-running child a test started (a daemon, a namespace holder, a `docker exec … ping`): its pid, its log
/// file (standard output and error together, appended; never a pipe nobody reads), and bounded ways to signal,
/// stop and wait for it. On swift-subprocess, like `Command`.
///
/// The child stays unreaped until a watcher sees it exit, so its pid cannot be reused while `signal` may still
/// name it; `exitStatus` is set once it is reaped.
public final class ChildProcess: Sendable {
    /// A short label for logs and errors, e.g. `h1/weft`.
    public let label: String
    public let pid: pid_t
    public let logFile: URL
    public let argv: [String]

    private let state: Mutex<State>
    private let finished = DispatchSemaphore(value: 0)

    private struct State {
        /// False once the watcher saw the exit (the child is then a zombie, reaped right after).
        var watching = true
        /// Set when the child is reaped: its status (128 + signal for a signal).
        var exitStatus: Int32?
        var signal: Int32?
    }

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

    private init(label: String, pid: pid_t, logFile: URL, argv: [String]) {
        self.label = label
        self.pid = pid
        self.logFile = logFile
        self.argv = argv
        self.state = Mutex(State())
    }

    /// Starts `argv` (`argv[0]` a path, or a tool found by `Executables.path`) with standard input from
    /// /dev/null and its output appended to `logFile`; `environment` nil inherits the test's.
    public static func start(
        label: String, argv: [String], logFile: URL, environment: [String: String]? = nil
    ) throws(StartFailure) -> ChildProcess {
        precondition(!argv.isEmpty, "an empty command")
        let log: FileDescriptor
        do {
            log = try FileDescriptor.open(
                FilePath(logFile.path), .writeOnly, options: [.create, .append, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            throw .cannotOpenLog(label: label, path: logFile.path, cause: "\(error)")
        }
        let configuration = Command.configuration(argv, environment: environment)
        let started = Slot<Result<ChildProcess, StartFailure>>()
        let reported = DispatchSemaphore(value: 0)
        Task(executorPreference: ProcessThread.shared) {
            await run(configuration, label: label, argv: argv, logFile: logFile, log: log, started: started, reported: reported)
        }
        reported.wait()
        return try started.value!.get()
    }

    /// Runs the child to its end: reports it (or the failure to start it) through `started`, watches it, and
    /// records how it ended.
    @ProcessActor
    private static func run(
        _ configuration: Configuration, label: String, argv: [String], logFile: URL, log: FileDescriptor,
        started: Slot<Result<ChildProcess, StartFailure>>, reported: DispatchSemaphore
    ) async {
        var child: ChildProcess?
        do {
            let result = try await Subprocess.run(
                configuration, input: .none, output: .fileDescriptor(log, closeAfterSpawningProcess: true),
                error: .combinedWithOutput
            ) { execution in
                let process = ChildProcess(
                    label: label, pid: execution.processIdentifier.value, logFile: logFile, argv: argv)
                child = process
                started.set(.success(process))
                reported.signal()
                await process.watch(execution)
            }
            let (status, signal): (Int32, Int32?) =
                switch result.terminationStatus {
                case .exited(let code): (code, nil)
                case .signaled(let number): (128 + number, number)
                }
            child?.state.withLock {
                $0.exitStatus = status
                $0.signal = signal
            }
        } catch {
            if child == nil {
                started.set(.failure(.cannotStart(label: label, argv: argv, cause: "\(error)")))
                reported.signal()
            } else {
                child?.state.withLock { $0.exitStatus = $0.exitStatus ?? -1 }
            }
        }
        child?.finished.signal()
    }

    /// Keeps `execution` (and the unreaped child) until the child has exited.
    @ProcessActor
    private func watch<I, O, E>(_ execution: Execution<I, O, E>) async {
        let descriptor = execution.processIdentifier.processDescriptor
        while !Self.hasExited(pid: pid, processDescriptor: descriptor) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        state.withLock { $0.watching = false }
    }

    /// Whether the (unreaped) child has exited: its pidfd is readable, or without one, /proc shows a zombie.
    private static func hasExited(pid: pid_t, processDescriptor: CInt) -> Bool {
        if processDescriptor >= 0 {
            var entry = pollfd(fd: processDescriptor, events: Int16(POLLIN), revents: 0)
            return poll(&entry, 1, 0) > 0
        }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(after: end)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// True until the child has exited and been reaped.
    public var isRunning: Bool { state.withLock { $0.exitStatus == nil } }

    /// The exit status (128 + the signal for a signal), or nil while it runs.
    public var exitStatus: Int32? { state.withLock { $0.exitStatus } }

    /// Sends a signal; false if the child is gone.
    @discardableResult
    public func signal(_ signal: Int32) -> Bool {
        state.withLock { state in
            // Under the lock: the child is not reaped while `watching`, so `pid` is still ours.
            guard state.watching else { return false }
            return Glibc.kill(pid, signal) == 0
        }
    }

    /// Waits (polling, bounded) for the child to exit and be reaped; true if it did.
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
    /// the child is reaped. Waits on the watcher, never on a cooperative thread.
    @discardableResult
    public func terminateBlocking(grace: Duration = .seconds(10)) -> StopOutcome {
        guard isRunning else { return .alreadyExited }
        signal(SIGTERM)
        if waitBlocking(grace) { return .exited(exitStatus ?? -1) }
        killBlocking()
        return .killed
    }

    /// `kill` for synchronous callers (a `defer`): the caller's thread waits (bounded) until the child is reaped.
    public func killBlocking() {
        signal(SIGCONT)
        signal(SIGKILL)
        _ = waitBlocking(.seconds(10))
    }

    /// Blocks until the child is reaped or `timeout` passes; true if it was reaped.
    private func waitBlocking(_ timeout: Duration) -> Bool {
        let reaped = finished.wait(timeout: .now() + .milliseconds(timeout.wholeMilliseconds)) == .success
        if reaped { finished.signal() }  // for the next waiter
        return reaped
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

extension Duration {
    /// Whole milliseconds (for Dispatch deadlines).
    var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
