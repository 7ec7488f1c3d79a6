import Dispatch
import Foundation
import Glibc
import Synchronization

/// What a finished command left: its exit status and its output.
struct CommandResult: Sendable, CustomStringConvertible {
    let argv: [String]
    let status: Int32
    let stdout: String
    let stderr: String
    let timedOut: Bool

    var succeeded: Bool { status == 0 && !timedOut }

    /// Standard output without the trailing newline.
    var output: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

    var description: String {
        let outcome = timedOut ? "timed out (killed)" : "exited \(status)"
        var text = "`\(argv.joined(separator: " "))` \(outcome)"
        if !stdout.isEmpty { text += "\n  stdout: \(stdout.trimmingCharacters(in: .whitespacesAndNewlines))" }
        if !stderr.isEmpty { text += "\n  stderr: \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))" }
        return text
    }

    /// Throws (with the command, status and output in the message) unless the command succeeded.
    @discardableResult
    func check() throws -> CommandResult {
        guard succeeded else { throw HarnessError(description) }
        return self
    }
}

/// Runs a command to completion, bounded in time: on timeout it is killed with SIGKILL and the result says so.
///
/// The blocking part (reading the pipes, waiting for the exit) runs on threads of its own, never on
/// `DispatchQueue.global()`: on Linux that pool is only as wide as the machine has cores, and with two cores
/// two blocked commands made every other command of every parallel test wait (cluster set-up took 3 s
/// instead of 1 s).
enum Command {
    static func run(
        _ argv: [String],
        environment: [String: String]? = nil,
        standardInput: URL? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> CommandResult {
        precondition(!argv.isEmpty)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        if let environment { process.environment = environment }
        // Pipes made close-on-exec from the start: Foundation's Process does not close the parent's other
        // descriptors in the child, so a plain Pipe's write end, made while another thread spawns a process,
        // leaks into that process. A long-running one (a `docker exec … ping` that runs until stopped, a weft,
        // a dockerd) then holds this command's pipe open, and reading it to the end waits as long as that
        // process lives. The child still gets its standard output and error: dup2 clears close-on-exec.
        let (outRead, outWrite) = try closeOnExecPipe()
        let (errRead, errWrite) = try closeOnExecPipe()
        process.standardOutput = outWrite
        process.standardError = errWrite
        if let standardInput {
            process.standardInput = try FileHandle(forReadingFrom: standardInput)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        let timedOut = Mutex(false)
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    try Spawn.start(process)
                } catch {
                    for handle in [outRead, outWrite, errRead, errWrite] { try? handle.close() }
                    continuation.resume(throwing: HarnessError("cannot start `\(argv.joined(separator: " "))`: \(error)"))
                    return
                }
                // The child has its copies; without closing ours the reads below would never see the end.
                try? outWrite.close()
                try? errWrite.close()
                let pid = process.processIdentifier
                let killer = DispatchWorkItem {
                    if process.isRunning {
                        timedOut.withLock { $0 = true }
                        kill(pid, SIGKILL)
                    }
                }
                DispatchQueue.global().asyncAfter(
                    deadline: .now() + .milliseconds(timeout.milliseconds), execute: killer)
                // Drain stderr on another thread so neither pipe can fill up and stall the command.
                let errorData = Mutex(Data())
                let errorDrained = DispatchSemaphore(value: 0)
                Thread {
                    let data = errRead.readDataToEndOfFile()
                    errorData.withLock { $0 = data }
                    errorDrained.signal()
                }.start()
                let outputData = outRead.readDataToEndOfFile()
                errorDrained.wait()
                process.waitUntilExit()
                killer.cancel()
                continuation.resume(
                    returning: CommandResult(
                        argv: argv, status: process.terminationStatus,
                        stdout: String(decoding: outputData, as: UTF8.self),
                        stderr: String(decoding: errorData.withLock { $0 }, as: UTF8.self),
                        timedOut: timedOut.withLock { $0 }))
            }.start()
        }
    }

    /// A pipe whose two ends are close-on-exec (`pipe2(O_CLOEXEC)`), as (read, write) handles that close their
    /// descriptors when released.
    private static func closeOnExecPipe() throws -> (FileHandle, FileHandle) {
        var descriptors: [Int32] = [-1, -1]
        guard pipe2(&descriptors, O_CLOEXEC) == 0 else {
            throw HarnessError("pipe2: \(String(cString: strerror(errno)))")
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

    /// Runs a command and returns its trimmed standard output; throws unless it exits 0.
    @discardableResult
    static func output(_ argv: [String], timeout: Duration = .seconds(30)) async throws -> String {
        try await run(argv, timeout: timeout).check().output
    }
}
