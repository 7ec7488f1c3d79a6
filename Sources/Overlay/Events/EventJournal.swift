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
    private let state = Mutex(State())

    private struct State {
        var next: UInt64 = 1
        var events: [OverlayEvent] = []
        /// Readers waiting for the next event (``waitForEvent(after:timeout:)``), by ticket.
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Tickets whose timeout or cancellation came before they began to wait.
        var woken: Set<UInt64> = []
        var nextTicket: UInt64 = 0
    }

    public init(capacity: Int = 1024) {
        self.capacity = max(1, capacity)
    }

    /// Records one event, stamped with the next sequence number and the wall clock.
    public func record(_ kind: String, subject: String, _ detail: String) {
        let time = ClusterState.wallClockMilliseconds()
        let waiting = state.withLock { state in
            state.events.append(OverlayEvent(sequence: state.next, time: time, kind: kind, subject: subject, detail: detail))
            state.next += 1
            if state.events.count > capacity { state.events.removeFirst(state.events.count - capacity) }
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for continuation in waiting { continuation.resume() }
    }

    /// The newest sequence number (0 before the first event).
    public var latest: UInt64 {
        state.withLock { $0.next - 1 }
    }

    /// Readers parked in ``waitForEvent(after:timeout:)`` now.
    public var waitingReaders: Int {
        state.withLock { $0.waiters.count }
    }

    /// Returns once an event after `sequence` is kept (at once if one is already), after `timeout`, or when the
    /// task is cancelled, whichever comes first. Holds nothing but a continuation while it waits.
    public func waitForEvent(after sequence: UInt64, timeout: Duration) async {
        let ticket = state.withLock { state in
            state.nextTicket += 1
            return state.nextTicket
        }
        let timer = Task {
            do { try await Task.sleep(for: timeout) } catch { return }
            self.wake(ticket)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    if state.woken.remove(ticket) != nil || state.next - 1 > sequence { return true }
                    state.waiters[ticket] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            self.wake(ticket)
        }
        timer.cancel()
        await timer.value
        state.withLock { _ = $0.woken.remove(ticket) }
    }

    /// Ends the wait of `ticket`, or marks it so that a wait not yet begun returns at once.
    private func wake(_ ticket: UInt64) {
        let continuation = state.withLock { state in
            guard let continuation = state.waiters.removeValue(forKey: ticket) else {
                state.woken.insert(ticket)
                return nil as CheckedContinuation<Void, Never>?
            }
            return continuation
        }
        continuation?.resume()
    }

    /// The events after `sequence` still kept, oldest first, at most `limit`; and the newest sequence number
    /// (0 before the first).
    public func events(after sequence: UInt64, limit: Int = 256) -> (events: [OverlayEvent], latest: UInt64) {
        state.withLock { state in
            (Array(state.events.lazy.filter { $0.sequence > sequence }.prefix(max(0, limit))), state.next - 1)
        }
    }
}
