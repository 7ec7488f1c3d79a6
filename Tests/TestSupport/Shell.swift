/// Runs iproute2 (`ip`, `bridge`) and other short tools from synchronous test code (a `TestNamespaces.with`
/// body, a `defer`), where `Command.run` cannot be awaited: `Command.runBlocking` under the names those tests use.
public enum Shell {
    /// Runs a program (a path, or a tool in the system directories) and returns its standard output; throws on
    /// a non-zero exit.
    @discardableResult
    public static func run(_ arguments: [String], input: String? = nil) throws(CommandFailure) -> String {
        try outcome(arguments, input: input).check().stdout
    }

    /// Runs a program to its end, whatever its exit status.
    public static func outcome(_ arguments: [String], input: String? = nil) throws(CommandFailure) -> CommandResult {
        try Command.runBlocking(arguments, input: input.map { .text($0) } ?? .none, timeout: .seconds(60))
    }
}
