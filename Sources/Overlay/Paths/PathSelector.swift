import Netlink

/// How this host reaches one peer: directly, or through a relay host; since when and why.
public struct PathChoice: Sendable, Equatable {
    /// The relay host's VTEP; nil for the direct path.
    public var relay: IPAddress?
    public var since: Double
    public var reason: String

    public init(relay: IPAddress?, since: Double, reason: String) {
        self.relay = relay
        self.since = since
        self.reason = reason
    }
}

/// What another host reports about its own direct path to a peer (its published probe view).
public struct PeerPathView: Sendable, Equatable {
    public var isUp: Bool
    /// Seconds; nil when it has no sample.
    public var rtt: Double?

    public init(isUp: Bool, rtt: Double?) {
        self.isUp = isUp
        self.rtt = rtt
    }
}

/// A change of path to one peer, for the log line, the metric and the event journal.
public struct PathChange: Sendable, Equatable {
    public var peer: IPAddress
    public var from: IPAddress?
    public var to: PathChoice
}

/// Chooses, per peer, the direct path or one relay host, from this host's probes and the views the other hosts
/// publish: a peer whose direct path is down goes through the host B whose direct paths here→B and B→peer are
/// both up and whose RTT sum is smallest; it comes back to direct once its direct path has been up for
/// ``holdDown`` seconds. Time is given by the caller (a virtual clock in tests).
public struct PathSelector: Sendable {
    /// Latency path selection (`--path-selection latency`): a peer whose direct path is up but much slower than
    /// the best relay path goes through the relay, with hysteresis both ways. RTTs in seconds.
    public struct LatencyPolicy: Sendable, Equatable {
        /// To the relay when direct RTT > relay RTT × `switchFactor` + `switchMargin`...
        public var switchFactor = 1.5
        public var switchMargin = 0.010
        /// ...and back once direct RTT ≤ relay RTT × `stayFactor` + `stayMargin` (and the hold-down has passed).
        public var stayFactor = 1.2
        public var stayMargin = 0.005

        public init() {}
    }

    public var holdDown: Double
    /// nil: relays only replace failed direct paths.
    public var latency: LatencyPolicy?
    public private(set) var choices: [IPAddress: PathChoice] = [:]

    public init(holdDown: Double, latency: LatencyPolicy? = nil) {
        self.holdDown = holdDown
        self.latency = latency
    }

    /// Re-decides every peer in `own`; peers gone from it are forgotten. `views` holds each other host's view of
    /// its direct paths, by its VTEP. With `relayAllowed` false every peer is direct.
    public mutating func update(
        now: Double, own: [IPAddress: DirectPath], views: [IPAddress: [IPAddress: PeerPathView]], relayAllowed: Bool
    ) -> [PathChange] {
        var changes: [PathChange] = []
        for peer in choices.keys where own[peer] == nil { choices[peer] = nil }
        for (peer, direct) in own.sorted(by: { $0.key < $1.key }) {
            let current = choices[peer]
            let next = decide(peer: peer, direct: direct, current: current, now: now, own: own, views: views, relayAllowed: relayAllowed)
            if current == nil || current?.relay != next.relay {
                if current != nil || next.relay != nil { changes.append(PathChange(peer: peer, from: current?.relay, to: next)) }
                choices[peer] = next
            } else if let current, current.reason != next.reason, next.relay == nil {
                // Same path, new reason (a direct path that went down with no relay to take): keep since.
                choices[peer] = PathChoice(relay: nil, since: current.since, reason: next.reason)
            }
        }
        return changes
    }

    /// The relays in use: peer → relay host.
    public var relays: [IPAddress: IPAddress] {
        var result: [IPAddress: IPAddress] = [:]
        for (peer, choice) in choices { if let relay = choice.relay { result[peer] = relay } }
        return result
    }

    private func decide(
        peer: IPAddress, direct: DirectPath, current: PathChoice?, now: Double, own: [IPAddress: DirectPath],
        views: [IPAddress: [IPAddress: PeerPathView]], relayAllowed: Bool
    ) -> PathChoice {
        let directChoice = { (reason: String) in PathChoice(relay: nil, since: now, reason: reason) }
        guard relayAllowed else { return current?.relay == nil ? (current ?? directChoice("direct")) : directChoice("relaying is off") }
        if let relay = current?.relay, let current {
            let cost = Self.usable(relay, for: peer, own: own, views: views)
            if direct.isUp, now - direct.since >= holdDown {
                if let latency, let cost, let rtt = direct.rtt, rtt > cost * latency.stayFactor + latency.stayMargin { return current }
                return directChoice("direct path up for \(Self.seconds(now - direct.since))")
            }
            if cost != nil { return current }
            if let best = best(for: peer, own: own, views: views) {
                return PathChoice(relay: best, since: now, reason: "relay \(relay) lost its path")
            }
            return directChoice("relay \(relay) lost its path and no other relay reaches the peer")
        }
        guard !direct.isUp else {
            if let latency, let rtt = direct.rtt, let best = best(for: peer, own: own, views: views),
                let cost = Self.usable(best, for: peer, own: own, views: views), rtt > cost * latency.switchFactor + latency.switchMargin
            {
                return PathChoice(relay: best, since: now, reason: "direct RTT \(Self.milliseconds(rtt)), via the relay \(Self.milliseconds(cost))")
            }
            return current ?? directChoice("direct")
        }
        if let best = best(for: peer, own: own, views: views) {
            return PathChoice(relay: best, since: now, reason: "direct path down (\(direct.misses) probes lost)")
        }
        return PathChoice(relay: nil, since: current?.since ?? now, reason: "direct path down, no relay reaches the peer")
    }

    /// The relay host for `peer` with the smallest RTT(here, B) + RTT(B, peer), among hosts whose both legs are up.
    private func best(for peer: IPAddress, own: [IPAddress: DirectPath], views: [IPAddress: [IPAddress: PeerPathView]]) -> IPAddress? {
        var best: (cost: Double, host: IPAddress)?
        for candidate in own.keys.sorted() where candidate != peer {
            guard let cost = Self.usable(candidate, for: peer, own: own, views: views) else { continue }
            if best == nil || cost < best!.cost { best = (cost, candidate) }
        }
        return best?.host
    }

    /// The RTT sum through `relay` when both its legs are up, else nil. An unmeasured leg costs one second.
    private static func usable(
        _ relay: IPAddress, for peer: IPAddress, own: [IPAddress: DirectPath], views: [IPAddress: [IPAddress: PeerPathView]]
    ) -> Double? {
        guard let first = own[relay], first.isUp, first.rtt != nil, let second = views[relay]?[peer], second.isUp else { return nil }
        return (first.rtt ?? 1) + (second.rtt ?? 1)
    }

    static func milliseconds(_ value: Double) -> String {
        let tenths = Int((value * 10_000).rounded())
        return "\(tenths / 10).\(tenths % 10) ms"
    }

    static func seconds(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) s"
    }
}
