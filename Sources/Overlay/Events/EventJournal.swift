import Synchronization

/// Something the daemon did or saw that an operator may want as it happens (`weft events`).
public struct OverlayEvent: Sendable, Equatable, Codable {
    /// Increasing from 1 over the process's life: a reader asks for the events after the last it saw.
    public var sequence: UInt64
    /// Milliseconds since the epoch.
    public var time: UInt64
    /// `membership`, `correction`, `ipam` or `error`.
    public var kind: String
    /// What it is about: a member, `net 00002a`, a pool.
    public var subject: String
    /// What happened, in words.
    public var detail: String
}

/// The newest events, kept in a bounded ring (a reader that falls more than ``capacity`` behind loses the
/// oldest; it sees the gap in the sequence numbers). The modules record into ``shared``; the control API reads.
public final class EventJournal: Sendable {
    /// The daemon's journal (one per process).
    public static let shared = EventJournal()

    public let capacity: Int
    private let state = Mutex<(next: UInt64, events: [OverlayEvent])>((1, []))

    public init(capacity: Int = 1024) {
        self.capacity = max(1, capacity)
    }

    /// Records one event, stamped with the next sequence number and the wall clock.
    public func record(_ kind: String, subject: String, _ detail: String) {
        let time = ClusterState.wallClockMilliseconds()
        state.withLock { state in
            state.events.append(OverlayEvent(sequence: state.next, time: time, kind: kind, subject: subject, detail: detail))
            state.next += 1
            if state.events.count > capacity { state.events.removeFirst(state.events.count - capacity) }
        }
    }

    /// The events after `sequence` still kept, oldest first, at most `limit`; and the newest sequence number
    /// (0 before the first).
    public func events(after sequence: UInt64, limit: Int = 256) -> (events: [OverlayEvent], latest: UInt64) {
        state.withLock { state in
            (Array(state.events.lazy.filter { $0.sequence > sequence }.prefix(max(0, limit))), state.next - 1)
        }
    }
}
