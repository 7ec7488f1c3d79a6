import Foundation

/// Runs iproute2 (`ip`, `bridge`) and other short tools from synchronous test code (a `TestNamespaces.with`
/// body, a `defer`), where `Command.run` cannot be awaited.
///
/// It blocks the calling thread on Foundation's `Process` rather than waiting for `Command`: swift-subprocess
/// needs a free thread of the cooperative pool to finish a run, and synchronous callers on a two-core machine
/// can hold every one of them (eight `Shell.run`s at once never returned). Standard error and the input go
/// through temporary files and only standard output is a pipe, read to its end before the wait, so no pipe can
/// fill up and block the child; starts go through `ProcessLauncher`, one at a time.
public enum Shell {
    /// Runs a program (a path, or a tool in the system directories) and returns its standard output; throws on
    /// a non-zero exit.
    @discardableResult
    public static func run(_ arguments: [String], input: String? = nil) throws(CommandFailure) -> String {
        try outcome(arguments, input: input).check().stdout
    }

    /// Runs a program to its end, whatever its exit status.
    public static func outcome(_ arguments: [String], input: String? = nil) throws(CommandFailure) -> CommandResult {
        precondition(!arguments.isEmpty, "an empty command")
        do {
            return try run(arguments, input: input ?? "")
        } catch {
            throw .cannotStart(argv: arguments, cause: "\(error)")
        }
    }

    private static func run(_ arguments: [String], input: String) throws -> CommandResult {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("weft-shell-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let errorsFile = scratch.appendingPathComponent("stderr")
        let inputFile = scratch.appendingPathComponent("stdin")
        _ = FileManager.default.createFile(atPath: errorsFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: inputFile.path, contents: Data(input.utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Executables.path(arguments[0]))
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe()
        let errors = try FileHandle(forWritingTo: errorsFile)
        let inputHandle = try FileHandle(forReadingFrom: inputFile)
        defer {
            try? errors.close()
            try? inputHandle.close()
        }
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = inputHandle
        try ProcessLauncher.start(process)
        try? output.fileHandleForWriting.close()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let signaled = process.terminationReason == .uncaughtSignal
        return CommandResult(
            argv: arguments, status: signaled ? 128 + process.terminationStatus : process.terminationStatus,
            signal: signaled ? process.terminationStatus : nil, stdout: String(decoding: outData, as: UTF8.self),
            stderr: (try? String(contentsOf: errorsFile, encoding: .utf8)) ?? "", timedOut: false, truncated: false)
    }
}
