import Synchronization

/// A response body written piece by piece as it is produced (HTTP/1.1 chunked encoding), for a reply that lasts:
/// `weft events` following the event journal. The connection closes when the body ends, and when the client does
/// not take a piece within ``writeTimeout`` (a reader that stopped reading holds no slot for ever).
public final class StreamedBody: Sendable, Equatable {
    /// The pieces, in order; the body ends when the sequence does.
    public let chunks: AsyncStream<[UInt8]>
    /// The longest one piece may wait for the client before the connection is closed.
    public let writeTimeout: Duration
    private let onEnd: @Sendable () -> Void
    private let ended = Atomic(false)

    /// - Parameter onEnd: called once when the body is over, whatever ended it (its end, the client gone, a
    ///   stalled write), or when the body is dropped unsent.
    public init(chunks: AsyncStream<[UInt8]>, writeTimeout: Duration = .seconds(30), onEnd: @escaping @Sendable () -> Void = {}) {
        self.chunks = chunks
        self.writeTimeout = writeTimeout
        self.onEnd = onEnd
    }

    deinit { end() }

    /// Marks the body over (the server calls it); later calls do nothing.
    public func end() {
        guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
        onEnd()
    }

    public static func == (lhs: StreamedBody, rhs: StreamedBody) -> Bool { lhs === rhs }
}
