@testable import Gossip
import Testing
import TestSupport

@Suite("Lifeguard and memberlist timing formulas")
struct LifeguardTimingTests {
    @Test("retransmit limit is mult × ceil(log10(n + 1))", arguments: [
        (1, 4), (9, 4), (10, 8), (99, 8), (100, 12), (999, 12), (1000, 16),
    ])
    func retransmitLimit(nodes: Int, expected: Int) {
        #expect(LifeguardTiming.retransmitLimit(multiplier: 4, nodeCount: nodes) == expected)
    }

    @Test("shortest suspicion is mult × max(1, log10 n) × interval, to the millisecond", arguments: [
        (1, 4000), (5, 4000), (10, 4000), (50, 6792), (100, 8000), (1000, 12000),
    ])
    func suspicionMinimum(nodes: Int, milliseconds: Int64) {
        let timeout = LifeguardTiming.suspicionTimeout(multiplier: 4, nodeCount: nodes, interval: .seconds(1))
        #expect(timeout == .milliseconds(milliseconds))
    }

    @Test("fast failure detection halves the probe interval, its timeout and the shortest suspicion; nothing else changes")
    func fastFailureDetection() {
        let lan = GossipConfiguration(name: "n")
        let fast = lan.fastFailureDetection()
        #expect(fast.probeInterval == .milliseconds(500) && fast.probeTimeout == .milliseconds(250))
        #expect(fast.suspicionMinimum(nodeCount: 3) == .seconds(2))
        #expect(lan.suspicionMinimum(nodeCount: 3) == .seconds(4))
        #expect(fast.pushPullInterval == lan.pushPullInterval && fast.suspicionMultiplier == lan.suspicionMultiplier)
    }

    @Test("confirmations wanted: SuspicionMult − 2, or 0 in clusters too small to confirm")
    func confirmationsWanted() {
        #expect(LifeguardTiming.suspicionConfirmationsWanted(multiplier: 4, nodeCount: 3) == 0)
        #expect(LifeguardTiming.suspicionConfirmationsWanted(multiplier: 4, nodeCount: 4) == 2)
        #expect(LifeguardTiming.suspicionConfirmationsWanted(multiplier: 4, nodeCount: 50) == 2)
    }

    @Test("each confirmation moves the timeout from max towards min on a log curve (reference §7.5: 11.4 s)")
    func confirmationCurve() {
        let timeout = { (c: Int) in
            LifeguardTiming.suspicionTimeout(confirmations: c, wanted: 2, minimum: .seconds(4), maximum: .seconds(24))
        }
        #expect(timeout(0) == .seconds(24))
        #expect(timeout(1) == .milliseconds(11381))
        #expect(timeout(2) == .seconds(4))
        #expect(timeout(3) == .seconds(4))
        #expect(
            LifeguardTiming.suspicionTimeout(confirmations: 0, wanted: 0, minimum: .seconds(4), maximum: .seconds(24))
                == .seconds(4))
    }

    @Test("a suspicion counts each accuser once and stops at k")
    func suspicionConfirmations() {
        var suspicion = Suspicion(
            from: "a", wanted: 2, minimum: .seconds(4), maximum: .seconds(24), now: ContinuousClock.now)
        #expect(suspicion.initialTimeout == .seconds(24))
        let confirmedANo = suspicion.confirm("a")
        #expect(!confirmedANo)
        let confirmedB = suspicion.confirm("b")
        #expect(confirmedB)
        let confirmedBNo = suspicion.confirm("b")
        #expect(!confirmedBNo)
        #expect(suspicion.deadline - suspicion.start == .milliseconds(11381))
        let confirmedC = suspicion.confirm("c")
        #expect(confirmedC)
        let confirmedDNo = suspicion.confirm("d")
        #expect(!confirmedDNo)
        #expect(suspicion.deadline - suspicion.start == .seconds(4))
    }

    @Test("push/pull interval scales above 32 nodes", arguments: [(32, 30), (33, 60), (64, 60), (65, 90), (128, 90)])
    func pushPullScale(nodes: Int, seconds: Int64) {
        #expect(LifeguardTiming.pushPullInterval(.seconds(30), nodeCount: nodes) == .seconds(seconds))
    }

    @Test("awareness scales timeouts by score + 1 and stays within 0 ..< max")
    func awareness() {
        var awareness = Awareness(maxMultiplier: 8)
        #expect(awareness.scale(.seconds(1)) == .seconds(1))
        awareness.apply(3)
        #expect(awareness.scale(.milliseconds(500)) == .seconds(2))
        awareness.apply(100)
        #expect(awareness.score == 7)
        #expect(awareness.scale(.seconds(1)) == .seconds(8))
        awareness.apply(-100)
        #expect(awareness.score == 0)
    }
}

@Suite("Transmit-limited broadcast queue")
struct BroadcastQueueTests {
    @Test("a message with the same key replaces the queued one")
    func invalidation() {
        var queue = BroadcastQueue()
        queue.enqueue([1, 1], key: "node-a")
        queue.enqueue([2], key: "node-b")
        queue.enqueue([3, 3, 3], key: "node-a")
        #expect(queue.count == 2)
        let taken = queue.take(overhead: 2, limit: 1400, transmitLimit: 4)
        #expect(taken == [[3, 3, 3], [2]])
    }

    @Test("each message is sent exactly transmitLimit times")
    func retransmitLimit() {
        var queue = BroadcastQueue()
        queue.enqueue([9], key: nil)
        var sent = 0
        for _ in 0..<10 { sent += queue.take(overhead: 2, limit: 1400, transmitLimit: 4).count }
        #expect(sent == 4)
        #expect(queue.count == 0)
    }

    @Test("the queue is bounded: the message sent most often, then the oldest, makes room")
    func capacity() {
        var queue = BroadcastQueue(capacity: 3)
        queue.enqueue([1], key: "a")
        queue.enqueue([2], key: "b")
        _ = queue.take(overhead: 2, limit: 5, transmitLimit: 10)  // sends one of them once
        queue.enqueue([3], key: "c")
        queue.enqueue([4], key: "d")
        #expect(queue.count == 3)
        #expect(queue.evicted == 1)
        for index in 5..<105 { queue.enqueue([UInt8(index)], key: nil) }
        #expect(queue.count == 3)
        #expect(queue.evicted == 101)
        let left = Set(queue.take(overhead: 2, limit: 1400, transmitLimit: 10))
        #expect(left == [[102], [103], [104]])
    }

    @Test("fresh messages first, larger first; nothing exceeds the budget")
    func packing() {
        var queue = BroadcastQueue()
        queue.enqueue(Array(repeating: 1, count: 600), key: "a")
        _ = queue.take(overhead: 2, limit: 1400, transmitLimit: 10)
        queue.enqueue(Array(repeating: 2, count: 500), key: "b")
        queue.enqueue(Array(repeating: 3, count: 700), key: "c")
        let taken = queue.take(overhead: 2, limit: 1400, transmitLimit: 10)
        #expect(taken.map(\.count) == [700, 500])
        #expect(taken.reduce(0) { $0 + $1.count + 2 } <= 1400)
    }
}

@Suite("serf metadata and intents")
struct SerfFormatTests {
    @Test("tags encode as ff + msgpack map and decode back; no tags is ff 80")
    func tags() {
        #expect(SerfTags.encode([:]) == [0xff, 0x80])
        let meta = SerfTags.encode(["role": "web", "dc": "lab"])
        #expect(hexString(meta) == "ff82a26463a36c6162a4726f6c65a3776562")
        #expect(SerfTags.decode(meta) == ["role": "web", "dc": "lab"])
        #expect(SerfTags.decode([]) == ["role": ""])
        #expect(SerfTags.decode(Array("vtep".utf8)) == ["role": "vtep"])
    }

    @Test("a leave intent is 00 + {LTime, Node, Prune} and its time reads back")
    func leaveIntent() {
        let intent = SerfIntent.leave(lamportTime: 7, node: "weft-1")
        #expect(hexString(intent) == "0083a54c54696d6507a44e6f6465a6776566742d31a55072756e65c2")
        #expect(SerfIntent.lamportTime(in: Array(intent.dropFirst())) == 7)
    }
}
