/// Polls `condition` every `interval` until it holds or `timeout` passes; returns the time it took, or nil.
/// Tests wait for behaviour with this, bounded, never with a fixed sleep.
public func eventually(
    within timeout: Duration, every interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool
) async rethrows -> Duration? {
    let clock = ContinuousClock()
    let start = clock.now
    while clock.now - start < timeout {
        if try await condition() { return clock.now - start }
        try? await Task.sleep(for: interval)
    }
    return try await condition() ? clock.now - start : nil
}
