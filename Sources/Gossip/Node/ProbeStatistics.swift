/// What this node's probes of one member measured: round-trip times of the newest answered probes and how
/// many probes went unanswered, for `weft status peers`.
public struct ProbeStatistics: Sendable, Hashable {
    /// How many round trips are kept per member.
    public static let window = 64

    /// Round trips of the newest answered probes, oldest first (direct or through another member).
    public private(set) var roundTrips: [Duration] = []
    public private(set) var probes = 0
    public private(set) var unanswered = 0
    /// Probes answered since the member was first probed: a reader that remembers it finds the round trips new
    /// since its last look at the end of ``roundTrips`` (up to ``window`` of them).
    public private(set) var answeredCount = 0

    public init() {}

    mutating func answered(after roundTrip: Duration) {
        probes += 1
        answeredCount += 1
        roundTrips.append(roundTrip)
        if roundTrips.count > Self.window { roundTrips.removeFirst(roundTrips.count - Self.window) }
    }

    mutating func missed() {
        probes += 1
        unanswered += 1
    }

    /// The newest round trip.
    public var last: Duration? { roundTrips.last }

    /// The round trip below which `fraction` (0...1) of the kept ones lie (nearest rank).
    public func percentile(_ fraction: Double) -> Duration? {
        guard !roundTrips.isEmpty else { return nil }
        let sorted = roundTrips.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    /// Unanswered probes over all probes since the member was first probed (0 before any).
    public var loss: Double { probes == 0 ? 0 : Double(unanswered) / Double(probes) }
}
