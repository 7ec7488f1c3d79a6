import TestSupport

/// Bounded polling, as TestSupport's `eventually`: the harness never sleeps for a fixed time to let something
/// happen; it checks a condition every `interval` and gives up, with an error that says what it waited for (and
/// the last try of a command), after `timeout`.
enum Poll {
    static func until(
        _ what: @autoclosure () -> String,
        timeout: Duration,
        interval: Duration = .milliseconds(20),
        _ condition: () async throws -> Bool
    ) async throws {
        try await eventually(what(), within: timeout, every: interval, condition)
    }

    /// Runs `command` every `interval` until it succeeds, and returns its result; on timeout the error quotes
    /// the last try.
    @discardableResult
    static func until(
        _ what: @autoclosure () -> String,
        timeout: Duration,
        interval: Duration = .milliseconds(20),
        _ command: () async throws -> CommandResult
    ) async throws -> CommandResult {
        try await eventually(what(), within: timeout, every: interval, command)
    }

    /// Like `until`, but reports whether the condition came true instead of throwing (for teardown).
    static func succeeded(
        timeout: Duration, interval: Duration = .milliseconds(20), _ condition: () async -> Bool
    ) async -> Bool {
        await eventually(within: timeout, every: interval, condition) != nil
    }
}

extension Duration {
    /// Whole milliseconds, for timing reports.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
