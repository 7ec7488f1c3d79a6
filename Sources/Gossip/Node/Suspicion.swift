/// One running Lifeguard suspicion (`suspicion.go`): started at the longest timeout when confirmations are
/// possible, and shortened by each independent confirmation towards the shortest.
struct Suspicion: Sendable {
    /// When the suspicion started.
    let start: ContinuousClock.Instant
    /// Confirmations wanted to reach the shortest timeout (k).
    let wanted: Int
    /// The shortest and longest timeouts.
    let minimum: Duration
    let maximum: Duration
    /// Who has accused the node so far (the first accuser included).
    private(set) var accusers: Set<String>
    /// Confirmations beyond the first accuser.
    private(set) var confirmations = 0

    init(from accuser: String, wanted: Int, minimum: Duration, maximum: Duration, now: ContinuousClock.Instant) {
        self.start = now
        self.wanted = wanted
        self.minimum = minimum
        self.maximum = maximum
        self.accusers = [accuser]
    }

    /// The first timeout: the longest when confirmations are wanted, otherwise the shortest.
    var initialTimeout: Duration { wanted > 0 ? maximum : minimum }

    /// The deadline with the confirmations so far.
    var deadline: ContinuousClock.Instant {
        start + LifeguardTiming.suspicionTimeout(
            confirmations: confirmations, wanted: wanted, minimum: minimum, maximum: maximum)
    }

    /// Records an accusation; `true` if it is a new independent confirmation (which the caller re-gossips and
    /// which moves the deadline earlier).
    mutating func confirm(_ accuser: String) -> Bool {
        guard confirmations < wanted, !accusers.contains(accuser) else { return false }
        accusers.insert(accuser)
        confirmations += 1
        return true
    }
}
