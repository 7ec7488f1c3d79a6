import Foundation
import Glibc

/// What a finished command left: how it ended and what it printed (each stream up to the runner's bound).
public struct CommandResult: Sendable, CustomStringConvertible {
    public let argv: [String]
    /// The exit status; 128 + the signal number for a child a signal ended (as a shell reports it).
    public let status: Int32
    /// The signal that ended the child, if one did.
    public let signal: Int32?
    public let stdout: String
    public let stderr: String
    /// True when the runner killed the child at its time limit.
    public let timedOut: Bool
    /// True when a stream printed more than the bound and the rest was read and dropped.
    public let truncated: Bool

    public var succeeded: Bool { status == 0 && signal == nil && !timedOut }

    /// Standard output without surrounding white space.
    public var output: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

    public var description: String {
        let outcome =
            timedOut ? "timed out (killed)" : signal.map { "ended by signal \($0)" } ?? "exited \(status)"
        var text = "`\(argv.joined(separator: " "))` \(outcome)"
        if !stdout.isEmpty { text += "\n  stdout: \(stdout.trimmingCharacters(in: .whitespacesAndNewlines))" }
        if !stderr.isEmpty { text += "\n  stderr: \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))" }
        if truncated { text += "\n  (output truncated)" }
        return text
    }

    /// Throws (with the command, status and output in the message) unless the command succeeded.
    @discardableResult
    public func check() throws(CommandFailure) -> CommandResult {
        guard succeeded else { throw .unsuccessful(self) }
        return self
    }
}

/// Why a command gave no usable result.
public enum CommandFailure: Error, CustomStringConvertible {
    /// It ran, and exited non-zero, was killed by a signal, or ran out of time.
    case unsuccessful(CommandResult)
    /// It could not be started (no such program, a spawn error).
    case cannotStart(argv: [String], cause: String)
    /// Its input file could not be opened.
    case cannotOpenInput(argv: [String], path: String, cause: String)

    public var description: String {
        switch self {
        case .unsuccessful(let result): "\(result)"
        case .cannotStart(let argv, let cause): "cannot start `\(argv.joined(separator: " "))`: \(cause)"
        case .cannotOpenInput(let argv, let path, let cause):
            "`\(argv.joined(separator: " "))`: cannot open its input \(path): \(cause)"
        }
    }
}

/// The one way tests run a program to its end: arguments, optional standard input, both output streams collected
/// up to a bound (the rest is read and dropped, so no pipe can fill and block the child), the exit status, and a
/// time limit at which the child is killed (SIGKILL) and the result says so.
///
/// On Foundation's `Process`, started through `ProcessLauncher` (one at a time, empty signal mask). The
/// asynchronous `run` does its blocking work (reading the pipes, waiting for the exit) on a thread of its own,
/// never on a cooperative thread or `DispatchQueue.global()`: on a two-core machine both are two threads wide,
/// and a few blocked commands would stall every other task of a parallel test run (a gossip node's answers to
/// serf's probes among them). `runBlocking` is the same run on the caller's thread, for synchronous code.
public enum Command {
    /// What the child reads on its standard input.
    public enum Input: Sendable {
        /// /dev/null.
        case none
        case text(String)
        /// A file, read from its start.
        case file(String)
    }

    /// How much of each stream a result keeps.
    public static let defaultOutputLimit = 16 * 1024 * 1024

    /// Runs `argv` (`argv[0]` a path, or a tool found by `Executables.path`) to its end.
    ///
    /// `environment` nil inherits the test's. Not finished within `timeout`: killed, and `timedOut` is set.
    public static func run(
        _ argv: [String],
        environment: [String: String]? = nil,
        input: Input = .none,
        timeout: Duration = .seconds(30),
        outputLimit: Int = defaultOutputLimit
    ) async throws(CommandFailure) -> CommandResult {
        precondition(!argv.isEmpty, "an empty command")
        let outcome: Result<CommandResult, CommandFailure> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    returning: Result { () throws(CommandFailure) in
                        try execute(argv, environment: environment, input: input, timeout: timeout, limit: outputLimit)
                    })
            }
            thread.name = "test-command"
            thread.start()
        }
        return try outcome.get()
    }

    /// `run` for synchronous callers (a `TestNamespaces.with` body, a `defer`): the caller's thread waits.
    public static func runBlocking(
        _ argv: [String],
        environment: [String: String]? = nil,
        input: Input = .none,
        timeout: Duration = .seconds(30),
        outputLimit: Int = defaultOutputLimit
    ) throws(CommandFailure) -> CommandResult {
        precondition(!argv.isEmpty, "an empty command")
        return try execute(argv, environment: environment, input: input, timeout: timeout, limit: outputLimit)
    }

    /// Runs a command and returns its trimmed standard output; throws unless it exits 0.
    @discardableResult
    public static func output(_ argv: [String], timeout: Duration = .seconds(30)) async throws(CommandFailure) -> String {
        try await run(argv, timeout: timeout).check().output
    }

    /// The run itself, blocking the calling thread until the child has exited and both pipes are read.
    private static func execute(
        _ argv: [String], environment: [String: String]?, input: Input, timeout: Duration, limit: Int
    ) throws(CommandFailure) -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Executables.path(argv[0]))
        process.arguments = Array(argv.dropFirst())
        if let environment { process.environment = environment }
        let inputHandle: FileHandle
        switch input {
        case .none:
            inputHandle = FileHandle.nullDevice
        case .text(let text):
            // Through an unlinked temporary file, not a pipe: a child that does not read cannot block the write.
            guard let handle = temporaryFile(holding: text) else {
                throw .cannotStart(argv: argv, cause: "cannot make a temporary file for its input")
            }
            inputHandle = handle
        case .file(let path):
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw .cannotOpenInput(argv: argv, path: path, cause: String(cString: strerror(errno)))
            }
            inputHandle = handle
        }
        defer { if inputHandle !== FileHandle.nullDevice { try? inputHandle.close() } }
        let output: (read: FileHandle, write: FileHandle)
        let errors: (read: FileHandle, write: FileHandle)
        do {
            output = try closeOnExecPipe()
            errors = try closeOnExecPipe()
        } catch {
            throw .cannotStart(argv: argv, cause: "\(error)")
        }
        process.standardInput = inputHandle
        process.standardOutput = output.write
        process.standardError = errors.write
        do {
            try ProcessLauncher.start(process)
        } catch {
            for handle in [output.read, output.write, errors.read, errors.write] { try? handle.close() }
            throw .cannotStart(argv: argv, cause: "\(error)")
        }
        // The child has its copies; without closing ours the reads below would never see the end.
        try? output.write.close()
        try? errors.write.close()
        let (outputBytes, errorBytes, timedOut) = collect(process, output: output.read, errors: errors.read, timeout, limit)
        var status: Int32
        var signal: Int32?
        if case .exited(let code, let number) = ChildStatus.of(process.processIdentifier) {
            (status, signal) = (code, number)
        } else {
            process.waitUntilExit()  // reaped already: returns at once
            let signaled = process.terminationReason == .uncaughtSignal
            (status, signal) = (signaled ? 128 + process.terminationStatus : process.terminationStatus,
                                signaled ? process.terminationStatus : nil)
        }
        return CommandResult(
            argv: argv, status: status, signal: signal,
            stdout: String(decoding: outputBytes.bytes, as: UTF8.self),
            stderr: String(decoding: errorBytes.bytes, as: UTF8.self),
            timedOut: timedOut, truncated: outputBytes.dropped || errorBytes.dropped)
    }

    /// Reads both pipes (one `poll` loop, so neither can fill up and stall the child) until both are at their end
    /// and the child has exited. At `timeout` a child still running is killed (SIGKILL). Once the child has exited,
    /// pipes a grandchild keeps open are read for at most `grandchildGrace` more, so a leftover grandchild cannot
    /// hold the run.
    private static func collect(
        _ process: Process, output: FileHandle, errors: FileHandle, _ timeout: Duration, _ limit: Int
    ) -> (output: Collected, errors: Collected, timedOut: Bool) {
        defer {
            try? output.close()
            try? errors.close()
        }
        var collected = [Collected(), Collected()]
        var descriptors = [output.fileDescriptor, errors.fileDescriptor]
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK) }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        /// Reads what `descriptors[index]` has now; marks it done (-1) at its end.
        func readAvailable(_ index: Int) {
            while descriptors[index] >= 0 {
                let count = buffer.withUnsafeMutableBytes { read(descriptors[index], $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
                if count <= 0 {
                    descriptors[index] = -1
                    return
                }
                let room = max(0, limit - collected[index].bytes.count)
                collected[index].bytes.append(contentsOf: buffer[0..<min(count, room)])
                if count > room { collected[index].dropped = true }
            }
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var timedOut = false
        var exitedAt: ContinuousClock.Instant?
        while true {
            if exitedAt == nil, ChildStatus.of(process.processIdentifier) != .running { exitedAt = clock.now }
            let pipesOpen = descriptors.contains { $0 >= 0 }
            if let exitedAt {
                if !pipesOpen || clock.now - exitedAt >= grandchildGrace {
                    for index in descriptors.indices { readAvailable(index) }
                    break
                }
            } else if clock.now >= deadline, !timedOut {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
            }
            var entries = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            // Short waits: the child's exit is polled, and without open pipes poll only sleeps.
            let ready = poll(&entries, nfds_t(entries.count), pipesOpen ? 20 : 2)
            if ready < 0 && errno != EINTR { break }
            for index in entries.indices where entries[index].fd >= 0 && entries[index].revents != 0 {
                readAvailable(index)
            }
        }
        return (collected[0], collected[1], timedOut)
    }

    /// How long pipes are still read after the child exited, when a grandchild holds them open.
    static let grandchildGrace: Duration = .seconds(1)

    /// Bytes read from a stream, the first `limit` of them kept.
    private struct Collected: Sendable {
        var bytes: [UInt8] = []
        var dropped = false
    }

    /// An unlinked temporary file holding `text`, open for reading from its start.
    private static func temporaryFile(holding text: String) -> FileHandle? {
        var template = Array((NSTemporaryDirectory() + "weft-command-input-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { return nil }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeMutableBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            written += count
        }
        guard lseek(descriptor, 0, SEEK_SET) == 0 else { return nil }
        return handle
    }

    /// A pipe whose two ends are close-on-exec (`pipe2(O_CLOEXEC)`), as (read, write) handles that close their
    /// descriptors when released: no other child started meanwhile can inherit this command's pipe and hold it
    /// open (the child still gets its standard streams: dup2 clears close-on-exec).
    private static func closeOnExecPipe() throws(CommandFailure) -> (read: FileHandle, write: FileHandle) {
        var descriptors: [Int32] = [-1, -1]
        guard pipe2(&descriptors, O_CLOEXEC) == 0 else {
            throw .cannotStart(argv: [], cause: "pipe2: \(String(cString: strerror(errno)))")
        }
        return (
            FileHandle(fileDescriptor: descriptors[0], closeOnDealloc: true),
            FileHandle(fileDescriptor: descriptors[1], closeOnDealloc: true)
        )
    }

    /// glibc's `pipe2`, which the Glibc module does not export (it is a `_GNU_SOURCE` declaration).
    private static let pipe2: @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32 = {
        guard let symbol = dlsym(nil, "pipe2") else {  // nil: RTLD_DEFAULT
            fatalError("glibc has no pipe2")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32).self)
    }()
}

extension Duration {
    /// Whole milliseconds (for Dispatch deadlines).
    var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
