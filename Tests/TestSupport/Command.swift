import Foundation
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

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

/// The one way tests run a program to its end (on swift-subprocess): arguments, optional standard input, both
/// output streams collected up to a bound (the rest is read and dropped, so no pipe can fill and block the
/// child), the exit status, and a time limit at which the child is killed (SIGKILL) and the result says so.
///
/// Children start with an empty signal mask and default dispositions, and inherit no descriptor but the three
/// standard ones (swift-subprocess closes the rest at spawn), so two starts from two threads cannot leak into
/// each other's children.
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
        let configuration = Command.configuration(argv, environment: environment)
        let outcome: Result<CommandResult, CommandFailure> = await withTaskExecutorPreference(ProcessThread.shared) {
            do {
                switch input {
                case .none:
                    return .success(try await collect(argv, configuration, input: .none, timeout, outputLimit))
                case .text(let text):
                    return .success(
                        try await collect(argv, configuration, input: .data(Data(text.utf8)), timeout, outputLimit))
                case .file(let path):
                    let descriptor: FileDescriptor
                    do {
                        descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
                    } catch {
                        return .failure(.cannotOpenInput(argv: argv, path: path, cause: "\(error)"))
                    }
                    return .success(
                        try await collect(
                            argv, configuration, input: .fileDescriptor(descriptor, closeAfterSpawningProcess: true),
                            timeout, outputLimit))
                }
            } catch {
                return .failure(.cannotStart(argv: argv, cause: "\(error)"))
            }
        }
        return try outcome.get()
    }

    /// Runs a command and returns its trimmed standard output; throws unless it exits 0.
    @discardableResult
    public static func output(_ argv: [String], timeout: Duration = .seconds(30)) async throws(CommandFailure) -> String {
        try await run(argv, timeout: timeout).check().output
    }

    /// The subprocess configuration for `argv`: the executable resolved by `Executables.path`, the environment
    /// given or inherited.
    static func configuration(_ argv: [String], environment: [String: String]?) -> Configuration {
        let resolved = Executables.path(argv[0])
        let executable: Executable = resolved.contains("/") ? .path(FilePath(resolved)) : .name(resolved)
        let subprocessEnvironment: Subprocess.Environment =
            environment.map { values in
                // NUL-terminated: Subprocess hands each entry to strdup, which reads on to the first NUL.
                .custom(values.sorted { $0.key < $1.key }.map { Array("\($0.key)=\($0.value)".utf8) + [0] })
            } ?? .inherit
        return Configuration(
            executable: executable, arguments: Arguments(Array(argv.dropFirst())), environment: subprocessEnvironment)
    }

    private enum Stream: Sendable {
        case output(Collected)
        case error(Collected)
        /// The time limit passed (the child was sent SIGKILL), or the timer was cancelled.
        case timer(fired: Bool)
    }

    /// Bytes read from a stream, the first `limit` of them kept.
    private struct Collected: Sendable {
        var bytes: [UInt8] = []
        var dropped = false
    }

    @ProcessActor
    private static func collect<Input: InputProtocol>(
        _ argv: [String], _ configuration: Configuration, input: Input, _ timeout: Duration, _ limit: Int
    ) async throws -> CommandResult {
        let execution = try await Subprocess.run(
            configuration, input: input, output: .sequence, error: .sequence
        ) { execution -> (Collected, Collected, Bool) in
            return await withTaskGroup(of: Stream.self) { group in
                group.addTask { .output(await drain(execution.standardOutput, limit: limit)) }
                group.addTask { .error(await drain(execution.standardError, limit: limit)) }
                group.addTask {
                    guard (try? await Task.sleep(for: timeout)) != nil else { return .timer(fired: false) }
                    try? execution.send(signal: .kill)
                    return .timer(fired: true)
                }
                var output = Collected()
                var error = Collected()
                var timedOut = false
                var streams = 0
                while let stream = await group.next() {
                    switch stream {
                    case .output(let collected): output = collected; streams += 1
                    case .error(let collected): error = collected; streams += 1
                    case .timer(let fired): timedOut = fired
                    }
                    if streams == 2 { group.cancelAll() }
                }
                return (output, error, timedOut)
            }
        }
        let (output, error, timedOut) = execution.closureResult
        let (status, signal): (Int32, Int32?) =
            switch execution.terminationStatus {
            case .exited(let code): (code, nil)
            case .signaled(let number): (128 + number, number)
            }
        return CommandResult(
            argv: argv, status: status, signal: signal, stdout: String(decoding: output.bytes, as: UTF8.self),
            stderr: String(decoding: error.bytes, as: UTF8.self),
            timedOut: timedOut, truncated: output.dropped || error.dropped)
    }

    /// Reads `stream` to its end (or until the child is gone), keeping the first `limit` bytes.
    private static func drain(_ stream: SubprocessOutputSequence, limit: Int) async -> Collected {
        var collected = Collected()
        do {
            for try await buffer in stream {
                let room = max(0, limit - collected.bytes.count)
                buffer.withUnsafeBytes { bytes in
                    collected.bytes.append(contentsOf: bytes.prefix(room))
                    if bytes.count > room { collected.dropped = true }
                }
            }
        } catch {
            // The child ended and its pipe was closed under the read: what was read is kept.
        }
        return collected
    }
}
