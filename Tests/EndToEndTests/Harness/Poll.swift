import Foundation

/// Bounded polling: the harness never sleeps for a fixed time to let something happen; it checks a condition
/// every `interval` and gives up, with an error that says what it waited for, after `timeout`.
enum Poll {
    static func until(
        _ what: @autoclosure () -> String,
        timeout: Duration,
        interval: Duration = .milliseconds(20),
        _ condition: () async throws -> Bool
    ) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if try await condition() { return }
            if clock.now >= deadline {
                throw HarnessError("timed out after \(timeout) waiting for \(what())")
            }
            try await Task.sleep(for: interval)
        }
    }

    /// Runs `command` every `interval` until it succeeds, and returns its result. On timeout the error quotes the
    /// last try (status, stdout and stderr), so a log says why it kept failing, not only that it did.
    @discardableResult
    static func until(
        _ what: @autoclosure () -> String,
        timeout: Duration,
        interval: Duration = .milliseconds(20),
        _ command: () async throws -> CommandResult
    ) async throws -> CommandResult {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let result = try await command()
            if result.succeeded { return result }
            if clock.now >= deadline {
                throw HarnessError("timed out after \(timeout) waiting for \(what()); the last try: \(result)")
            }
            try await Task.sleep(for: interval)
        }
    }

    /// Like `until`, but reports whether the condition came true instead of throwing (for teardown).
    static func succeeded(
        timeout: Duration, interval: Duration = .milliseconds(20), _ condition: () async -> Bool
    ) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if await condition() { return true }
            if clock.now >= deadline { return false }
            try? await Task.sleep(for: interval)
        }
    }
}

extension Duration {
    /// Whole milliseconds, for timing reports.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
