import Logging

/// Logs each kind of hit limit at most once per interval, with how many hits there were since the last line, so
/// that a flood of hostile input costs a counter increment per packet and one log line per interval.
struct LimitLog: Sendable {
    private struct Entry: Sendable {
        var lastLogged: ContinuousClock.Instant
        var unlogged: Int
    }

    let interval: Duration
    private var entries: [String: Entry] = [:]

    init(interval: Duration) {
        self.interval = interval
    }

    /// Records one hit of `limit`; returns how many hits to report when a line is due now, else `nil`.
    mutating func hit(_ limit: String, now: ContinuousClock.Instant, count: Int = 1) -> Int? {
        guard var entry = entries[limit] else {
            entries[limit] = Entry(lastLogged: now, unlogged: 0)
            return count
        }
        entry.unlogged += count
        guard now - entry.lastLogged >= interval else {
            entries[limit] = entry
            return nil
        }
        let hits = entry.unlogged
        entries[limit] = Entry(lastLogged: now, unlogged: 0)
        return hits
    }
}

extension GossipNode {
    /// Counts nothing itself: logs that `limit` was hit, at most once per ``GossipConfiguration/limitLogInterval``.
    func logLimit(_ limit: String, _ message: Logger.Message, count: Int = 1, metadata: Logger.Metadata = [:]) {
        guard let hits = limitLog.hit(limit, now: clock.now, count: count) else { return }
        var metadata = metadata
        metadata["limit"] = "\(limit)"
        metadata["hits"] = "\(hits)"
        logger.warning(message, metadata: metadata)
    }
}
