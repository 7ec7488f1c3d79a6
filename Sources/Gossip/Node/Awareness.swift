/// Lifeguard's local health score (`awareness.go`): how much this node distrusts its own view. It grows when
/// probes fail without nacks or when we must refute, and shrinks with each successful probe; probe intervals
/// and ack timeouts are multiplied by `score + 1`.
public struct Awareness: Sendable, Hashable {
    /// The current score, `0 ..< maxMultiplier`.
    public private(set) var score = 0
    /// memberlist's `AwarenessMaxMultiplier` (8 on a LAN).
    public let maxMultiplier: Int

    /// Starts healthy (score 0).
    public init(maxMultiplier: Int) {
        self.maxMultiplier = max(1, maxMultiplier)
    }

    /// Adds `delta`, clamped to `0 ... maxMultiplier − 1`.
    public mutating func apply(_ delta: Int) {
        score = min(max(score + delta, 0), maxMultiplier - 1)
    }

    /// `timeout × (score + 1)`.
    public func scale(_ timeout: Duration) -> Duration {
        timeout * (score + 1)
    }
}
