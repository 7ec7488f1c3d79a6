import Logging

/// One log line per subject per interval: what a hostile peer can trigger at line rate must not flood the log.
struct RateLimitedLog {
    let interval: Duration
    private let clock = ContinuousClock()
    private var last: [String: ContinuousClock.Instant] = [:]

    init(interval: Duration) { self.interval = interval }

    /// True when a line about `subject` may be written now (and then not again for `interval`).
    mutating func allows(_ subject: String) -> Bool {
        let now = clock.now
        if let previous = last[subject], now - previous < interval { return false }
        if last.count >= 1024 { last = last.filter { now - $0.value < interval } }
        guard last.count < 1024 else { return false }
        last[subject] = now
        return true
    }
}
