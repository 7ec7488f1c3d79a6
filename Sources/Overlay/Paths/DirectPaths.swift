import Netlink

/// One peer's direct data path as this host's probes see it.
public struct DirectPath: Sendable, Equatable {
    /// Down after ``DirectPaths/missLimit`` probes in a row went unanswered; up again on the next answer.
    public var isUp: Bool
    /// Smoothed round-trip time of the probes, in seconds; nil before the first answer.
    public var rtt: Double?
    /// Probes in a row without an answer.
    public var misses: Int
    /// When ``isUp`` last changed (or the peer was first probed), on the path clock (seconds).
    public var since: Double

    public init(isUp: Bool = true, rtt: Double? = nil, misses: Int = 0, since: Double) {
        self.isUp = isUp
        self.rtt = rtt
        self.misses = misses
        self.since = since
    }
}

/// The direct data paths to every peer, kept from probes sent and answered: one probe outstanding per peer, an
/// answer after the next probe was sent counts as a miss (so an RTT above the probe interval reads as down).
public struct DirectPaths: Sendable {
    public static let missLimit = 3
    /// Weight of a new RTT sample in the smoothed RTT.
    static let smoothing = 0.3
    /// The most peers kept; more are not probed (counted by the caller).
    public static let maxPeers = 1024

    public private(set) var paths: [IPAddress: DirectPath] = [:]
    private var outstanding: [IPAddress: Double] = [:]

    public init() {}

    /// Keeps exactly `peers` (up to ``maxPeers``), new ones up until probed otherwise.
    public mutating func retain(_ peers: Set<IPAddress>, now: Double) {
        for peer in paths.keys where !peers.contains(peer) {
            paths[peer] = nil
            outstanding[peer] = nil
        }
        for peer in peers.sorted() where paths[peer] == nil && paths.count < Self.maxPeers {
            paths[peer] = DirectPath(since: now)
        }
    }

    /// A probe to `peer` leaves now; the one before it, if unanswered, is a miss. Returns true when this turned
    /// the path down.
    @discardableResult
    public mutating func sent(to peer: IPAddress, at now: Double) -> Bool {
        guard var path = paths[peer] else { return false }
        var turnedDown = false
        if outstanding[peer] != nil {
            path.misses = min(path.misses + 1, 1_000_000)
            if path.isUp, path.misses >= Self.missLimit {
                path.isUp = false
                path.since = now
                turnedDown = true
            }
        }
        outstanding[peer] = now
        paths[peer] = path
        return turnedDown
    }

    /// `peer` answered the outstanding probe. Returns true when this turned the path up.
    @discardableResult
    public mutating func answered(by peer: IPAddress, at now: Double) -> Bool {
        guard var path = paths[peer], let sent = outstanding.removeValue(forKey: peer) else { return false }
        let sample = max(0, now - sent)
        path.rtt = path.rtt.map { $0 + Self.smoothing * (sample - $0) } ?? sample
        path.misses = 0
        let turnedUp = !path.isUp
        if turnedUp {
            path.isUp = true
            path.since = now
        }
        paths[peer] = path
        return turnedUp
    }
}
