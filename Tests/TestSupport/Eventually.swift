/// A bounded wait that ran out: what was awaited, for how long, and (when known) the last try's result.
public struct WaitTimedOut: Error, CustomStringConvertible {
    public let what: String
    public let timeout: Duration
    public let lastTry: String?

    public var description: String {
        "timed out after \(timeout) waiting for \(what)" + (lastTry.map { "; the last try: \($0)" } ?? "")
    }
}

/// Polls `condition` every `interval` until it holds or `timeout` passes; returns the time it took, or nil.
/// Tests wait for behaviour with this, bounded, never with a fixed sleep. An error `condition` throws ends the
/// wait at once.
public func eventually(
    within timeout: Duration, every interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool
) async rethrows -> Duration? {
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start.advanced(by: timeout)
    while true {
        if try await condition() { return clock.now - start }
        if clock.now >= deadline { return nil }
        try? await Task.sleep(for: interval)
    }
}

/// Polls `condition` until it holds; throws `WaitTimedOut` naming `what` after `timeout`.
public func eventually(
    _ what: @autoclosure () -> String, within timeout: Duration, every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    if try await eventually(within: timeout, every: interval, condition) == nil {
        throw WaitTimedOut(what: what(), timeout: timeout, lastTry: nil)
    }
}

/// Runs `command` every `interval` until it succeeds, and returns its result. On timeout the error quotes the
/// last try (status, stdout and stderr), so a log says why it kept failing, not only that it did.
@discardableResult
public func eventually(
    _ what: @autoclosure () -> String, within timeout: Duration, every interval: Duration = .milliseconds(20),
    _ command: () async throws -> CommandResult
) async throws -> CommandResult {
    var last: CommandResult?
    if try await eventually(within: timeout, every: interval, {
        last = try await command()
        return last?.succeeded == true
    }) != nil, let last {
        return last
    }
    throw WaitTimedOut(what: what(), timeout: timeout, lastTry: last.map { "\($0)" })
}
