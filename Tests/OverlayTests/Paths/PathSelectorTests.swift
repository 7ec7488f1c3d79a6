import Netlink
import Overlay
import Testing

/// Path choice and hysteresis on a virtual clock: A (this host) with peers B, C, D.
struct PathSelectorTests {
    let b = IPAddress("192.0.2.2")!
    let c = IPAddress("192.0.2.3")!
    let d = IPAddress("192.0.2.4")!

    /// Probes every 0.3 s on a virtual clock; `answering` says which peers answer at each step.
    struct Clock {
        var now = 0.0
        var paths = DirectPaths()

        mutating func step(_ peers: Set<IPAddress>, answering: Set<IPAddress>, rtt: [IPAddress: Double] = [:]) {
            paths.retain(peers, now: now)
            for peer in peers.sorted() {
                paths.sent(to: peer, at: now)
                if answering.contains(peer) { paths.answered(by: peer, at: now + (rtt[peer] ?? 0.001)) }
            }
            now += 0.3
        }
    }

    func views(_ pairs: [(IPAddress, [IPAddress: Bool])], rtt: Double = 0.001) -> [IPAddress: [IPAddress: PeerPathView]] {
        var result: [IPAddress: [IPAddress: PeerPathView]] = [:]
        for (host, view) in pairs { result[host] = view.mapValues { PeerPathView(isUp: $0, rtt: rtt) } }
        return result
    }

    @Test func aDirectPathIsDownAfterThreeLostProbesAndUpAtTheNextAnswer() {
        var clock = Clock()
        clock.step([b], answering: [b])
        #expect(clock.paths.paths[b]?.isUp == true)
        clock.step([b], answering: [])  // outstanding
        clock.step([b], answering: [])  // miss 1
        clock.step([b], answering: [])  // miss 2
        #expect(clock.paths.paths[b]?.isUp == true)
        clock.step([b], answering: [])  // miss 3
        #expect(clock.paths.paths[b]?.isUp == false)
        #expect(clock.paths.paths[b]?.misses == 3)
        clock.step([b], answering: [b])
        #expect(clock.paths.paths[b]?.isUp == true)
        #expect(clock.paths.paths[b]?.misses == 0)
    }

    @Test func aFailedPeerGoesThroughTheRelayWithTheSmallestRTTSum() {
        var clock = Clock()
        var selector = PathSelector(holdDown: 5)
        let everyone: Set<IPAddress> = [b, c, d]
        clock.step(everyone, answering: everyone, rtt: [b: 0.010, d: 0.002])
        #expect(selector.update(now: clock.now, own: clock.paths.paths, views: [:], relayAllowed: true).isEmpty)
        var changes: [PathChange] = []
        // C stops answering; B and D both reach C, D is nearer.
        let peerViews = views([(b, [c: true]), (d, [c: true])])
        for _ in 0..<5 {
            clock.step(everyone, answering: [b, d], rtt: [b: 0.010, d: 0.002])
            changes += selector.update(now: clock.now, own: clock.paths.paths, views: peerViews, relayAllowed: true)
        }
        #expect(changes.count == 1)
        #expect(changes.first?.peer == c)
        #expect(changes.first?.to.relay == d)
        #expect(selector.relays == [c: d])
        #expect(selector.choices[c]?.reason.contains("direct path down") == true)
    }

    @Test func noRelayWhenNoHostReachesThePeerOrRelayingIsOff() {
        var clock = Clock()
        var selector = PathSelector(holdDown: 5)
        var off = PathSelector(holdDown: 5)
        for _ in 0..<6 {
            clock.step([b, c], answering: [b])
            _ = selector.update(now: clock.now, own: clock.paths.paths, views: views([(b, [c: false])]), relayAllowed: true)
            _ = off.update(now: clock.now, own: clock.paths.paths, views: views([(b, [c: true])]), relayAllowed: false)
        }
        #expect(selector.relays.isEmpty)
        #expect(selector.choices[c]?.reason == "direct path down, no relay reaches the peer")
        #expect(off.relays.isEmpty)
    }

    @Test func backToDirectOnlyAfterTheHoldDownAndAFlapRestartsIt() {
        var clock = Clock()
        var selector = PathSelector(holdDown: 5)
        let peerViews = views([(b, [c: true])])
        for _ in 0..<6 {
            clock.step([b, c], answering: [b])
            _ = selector.update(now: clock.now, own: clock.paths.paths, views: peerViews, relayAllowed: true)
        }
        #expect(selector.relays == [c: b])
        // C answers again for 3 s, then flaps once: still relayed.
        for _ in 0..<10 {
            clock.step([b, c], answering: [b, c])
            #expect(selector.update(now: clock.now, own: clock.paths.paths, views: peerViews, relayAllowed: true).isEmpty)
        }
        for _ in 0..<4 { clock.step([b, c], answering: [b]) }
        _ = selector.update(now: clock.now, own: clock.paths.paths, views: peerViews, relayAllowed: true)
        #expect(selector.relays == [c: b])
        // Up again: direct exactly once the hold-down has passed since it came up.
        clock.step([b, c], answering: [b, c])
        let upAt = clock.now - 0.3
        var back: Double?
        for _ in 0..<30 {
            clock.step([b, c], answering: [b, c])
            let changes = selector.update(now: clock.now, own: clock.paths.paths, views: peerViews, relayAllowed: true)
            if let change = changes.first, change.to.relay == nil { back = clock.now }
            if back != nil { break }
        }
        let returned = try! #require(back)
        #expect(returned - upAt >= 5)
        #expect(returned - upAt < 5.7)
        #expect(selector.relays.isEmpty)
    }

    @Test func aRelayThatLosesItsPathIsReplacedOrDropped() {
        var clock = Clock()
        var selector = PathSelector(holdDown: 5)
        let everyone: Set<IPAddress> = [b, c, d]
        for _ in 0..<6 {
            clock.step(everyone, answering: [b, d], rtt: [b: 0.001, d: 0.004])
            _ = selector.update(now: clock.now, own: clock.paths.paths, views: views([(b, [c: true]), (d, [c: true])]), relayAllowed: true)
        }
        #expect(selector.relays == [c: b])
        // B stops answering: C moves to D.
        var changes: [PathChange] = []
        for _ in 0..<6 {
            clock.step(everyone, answering: [d], rtt: [d: 0.004])
            changes += selector.update(now: clock.now, own: clock.paths.paths, views: views([(d, [c: true])]), relayAllowed: true)
        }
        #expect(selector.relays[c] == d)
        #expect(changes.contains { $0.peer == c && $0.from == b && $0.to.relay == d })
        // D loses C too: no relay left, the peer is reported unreachable on its direct path.
        for _ in 0..<2 {
            clock.step(everyone, answering: [d], rtt: [d: 0.004])
            _ = selector.update(now: clock.now, own: clock.paths.paths, views: views([(d, [c: false])]), relayAllowed: true)
        }
        #expect(selector.relays[c] == nil)
        #expect(selector.choices[c]?.reason.contains("relay reaches the peer") == true)
    }

    @Test func latencySelectionMovesASlowPathToTheRelayWithHysteresisAndOffStaysDirect() {
        var clock = Clock()
        var latency = PathSelector(holdDown: 2, latency: PathSelector.LatencyPolicy())
        var off = PathSelector(holdDown: 2)
        let peerViews = views([(b, [c: true])], rtt: 0.001)
        var changes: [PathChange] = []
        // C's direct path is 100 ms; B is 1 ms away and 1 ms from C.
        for _ in 0..<20 {
            clock.step([b, c], answering: [b, c], rtt: [b: 0.001, c: 0.100])
            changes += latency.update(now: clock.now, own: clock.paths.paths, views: peerViews, relayAllowed: true)
            _ = off.update(now: clock.now, own: clock.paths.paths, views: peerViews, relayAllowed: true)
        }
        #expect(latency.relays == [c: b])
        #expect(changes.count == 1)
        #expect(latency.choices[c]?.reason.hasPrefix("direct RTT") == true)
        #expect(off.relays.isEmpty)
        // A direct RTT inside the band (not 1.5× + 10 ms worse, but above 1.2× + 5 ms): stays relayed.
        for _ in 0..<30 {
            clock.step([b, c], answering: [b, c], rtt: [b: 0.001, c: 0.009])
            #expect(latency.update(now: clock.now, own: clock.paths.paths, views: peerViews, relayAllowed: true).isEmpty)
        }
        #expect(latency.relays == [c: b])
        // Fast again: back to direct.
        var back = false
        for _ in 0..<30 where !back {
            clock.step([b, c], answering: [b, c], rtt: [b: 0.001, c: 0.001])
            back = latency.update(now: clock.now, own: clock.paths.paths, views: peerViews, relayAllowed: true).contains { $0.to.relay == nil }
        }
        #expect(back)
        // And the band does not bring it to the relay.
        for _ in 0..<30 {
            clock.step([b, c], answering: [b, c], rtt: [b: 0.001, c: 0.009])
            #expect(latency.update(now: clock.now, own: clock.paths.paths, views: peerViews, relayAllowed: true).isEmpty)
        }
    }
}
