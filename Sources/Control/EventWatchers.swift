import CoreMetrics
import DockerPlugin
import FoundationEssentials
import Logging
import Overlay
import ServiceLifecycle
import Synchronization

/// The clients following the event journal live (`GET /events?follow`, `weft events`): each gets the events as
/// JSON lines as they are recorded, over a streamed reply. Bounded: at most ``maxWatchers`` at once (the next is
/// refused), and a watcher more than ``maxBehind`` events behind the journal (it reads too slowly) is cut off with
/// a last line saying so. Refusals and cut-offs are counted and logged at most once a minute. A graceful shutdown
/// of the daemon ends every stream (with a last line), so that the server does not wait for them.
public final class EventWatchers: Sendable {
    public let journal: EventJournal
    /// The most clients following at once.
    public let maxWatchers: Int
    /// The most events a watcher may have waiting for it; one more and it is cut off.
    public let maxBehind: Int
    /// How long a watcher waits without events before it gets an empty line (so a client that left is noticed).
    public let heartbeat: Duration
    let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var watching = 0
        var refused = 0
        var cutOff = 0
        var lastLogged: [String: ContinuousClock.Instant] = [:]
    }

    public init(
        journal: EventJournal, maxWatchers: Int = 8, maxBehind: Int = 256, heartbeat: Duration = .seconds(10),
        logger: Logger = Logger(label: "weft.control", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.journal = journal
        self.maxWatchers = max(1, maxWatchers)
        self.maxBehind = max(1, maxBehind)
        self.heartbeat = heartbeat
        self.logger = logger
    }

    /// Clients following now, and those refused and cut off so far.
    public var counts: (watching: Int, refused: Int, cutOff: Int) {
        state.withLock { ($0.watching, $0.refused, $0.cutOff) }
    }

    /// The event lines after `sequence` (from now when `nil`) as a streamed body, or `nil` when ``maxWatchers``
    /// already follow (counted and logged).
    public func follow(after sequence: UInt64?) -> StreamedBody? {
        let admitted = state.withLock { state in
            guard state.watching < maxWatchers else {
                state.refused += 1
                return false
            }
            state.watching += 1
            return true
        }
        guard admitted else {
            Counter(label: "weft_event_watchers_refused_total").increment()
            note("refused", "refused an event watcher: \(maxWatchers) already follow the journal")
            return nil
        }
        Gauge(label: "weft_event_watchers").record(counts.watching)
        let latest = journal.latest
        let cursor = WatchCursor(position: min(sequence ?? latest, latest))
        return StreamedBody(
            chunks: AsyncStream(unfolding: { await self.next(for: cursor) }),
            onEnd: { [self] in
                let watching = state.withLock { state in
                    state.watching -= 1
                    return state.watching
                }
                Gauge(label: "weft_event_watchers").record(watching)
            })
    }

    /// The next piece for a watcher: the events after its position as JSON lines, an empty line when none came
    /// within ``heartbeat``, the cut-off notice when it fell too far behind, then the end.
    private func next(for cursor: WatchCursor) async -> [UInt8]? {
        guard let position = cursor.position else { return nil }
        let latest = journal.latest
        let behind = latest &- min(position, latest)
        if behind > UInt64(maxBehind) {
            cursor.position = nil
            state.withLock { $0.cutOff += 1 }
            Counter(label: "weft_event_watchers_cut_off_total").increment()
            let notice = "cut off: \(behind) events behind, more than the \(maxBehind) a watcher may have waiting (it reads too slowly)"
            note("cut-off", "cut off an event watcher that reads too slowly", metadata: ["behind": "\(behind)"])
            return Self.line(EventStreamNotice(error: notice))
        }
        let (journal, heartbeat) = (self.journal, self.heartbeat)
        await cancelWhenGracefulShutdown { await journal.waitForEvent(after: position, timeout: heartbeat) }
        guard !Task.isCancelled else { return nil }
        if Task.isShuttingDownGracefully {
            // The daemon is stopping: end the reply so that the server can finish (it waits for replies in flight).
            cursor.position = nil
            return Self.line(EventStreamNotice(error: "the daemon is stopping"))
        }
        let events = journal.events(after: position, limit: maxBehind).events
        guard let last = events.last else { return [0x0A] }
        cursor.position = last.sequence
        return events.flatMap(Self.line)
    }

    /// One JSON object and a newline.
    static func line(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(value)).map(Array.init) ?? Array(#"{"error":"unencodable event"}"#.utf8)) + [0x0A]
    }

    /// Logs `message` unless a line of the same `kind` went out less than a minute ago.
    private func note(_ kind: String, _ message: Logger.Message, metadata: Logger.Metadata = [:]) {
        let now = ContinuousClock.now
        let due = state.withLock { state in
            if let last = state.lastLogged[kind], now - last < .seconds(60) { return false }
            state.lastLogged[kind] = now
            return true
        }
        guard due else { return }
        let (watching, refused, cutOff) = counts
        var metadata = metadata
        metadata["watching"] = "\(watching)"
        metadata["refused_total"] = "\(refused)"
        metadata["cut_off_total"] = "\(cutOff)"
        logger.warning(message, metadata: metadata)
    }
}

/// Where one watcher is in the journal; `nil` once its stream is over.
private final class WatchCursor: Sendable {
    private let value: Mutex<UInt64?>

    init(position: UInt64) {
        value = Mutex(position)
    }

    var position: UInt64? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

/// The last line of an event stream that the daemon ended: why.
public struct EventStreamNotice: Sendable, Equatable, Codable {
    public var error: String
}
