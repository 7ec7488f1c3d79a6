import Overlay
import Testing

struct ReplicatedTableTests {
    typealias Table = ReplicatedTable<String>

    @Test func concurrentWritesConvergeWhateverTheOrder() {
        var a = Table(node: "a")
        var b = Table(node: "b")
        let fromA = a.put("10.1.0.2", "mac-a")
        let fromB = b.put("10.1.0.2", "mac-b")  // the same address claimed on two hosts at once
        var replicas: [Table] = []
        for order in [[("a", fromA), ("b", fromB)], [("b", fromB), ("a", fromA)], [("a", fromA), ("a", fromA), ("b", fromB), ("a", fromA)]] {
            var replica = Table(node: "c")
            for (_, entry) in order { replica.merge("10.1.0.2", entry, at: 0) }
            replicas.append(replica)
        }
        #expect(replicas.allSatisfy { $0 == replicas[0] })
        // Equal clocks: the higher node ID wins, on every host.
        #expect(replicas[0].live["10.1.0.2"] == "mac-b")
        a.merge("10.1.0.2", fromB, at: 0)
        b.merge("10.1.0.2", fromA, at: 0)
        #expect(a.live == b.live)
    }

    @Test func aLaterWriteAnywhereWinsAndClocksMoveOn() {
        var a = Table(node: "a")
        var b = Table(node: "b")
        let first = a.put("k", "one")
        b.merge("k", first, at: 0)
        let second = b.put("k", "two")  // b has seen a's write: its clock is above it
        #expect(second.version > first.version)
        let newerTaken = a.merge("k", second, at: 0)
        let olderTaken = a.merge("k", first, at: 0)
        #expect(newerTaken)
        #expect(!olderTaken, "an older entry never overwrites")
        #expect(a.live["k"] == "two")
    }

    @Test func tombstonesHoldOffLateCopiesThenExpire() {
        var a = Table(node: "a")
        var b = Table(node: "b")
        let written = a.put("k", "v")
        b.merge("k", written, at: 0)
        guard let tombstone = a.delete("k", at: 10) else {
            Issue.record("deleting a live key gave no tombstone")
            return
        }
        b.merge("k", tombstone, at: 10)
        let resurrected = b.merge("k", written, at: 11)
        #expect(!resurrected, "a late copy of the deleted entry does not resurrect it")
        #expect(b.live["k"] == nil)
        b.expireTombstones(olderThan: 60, at: 69)
        #expect(b.entries["k"] != nil)
        b.expireTombstones(olderThan: 60, at: 70)
        #expect(b.entries["k"] == nil)
    }

    @Test func aFailedOwnersEntriesAreSuspendedRestoredOrPurged() {
        var table = Table(node: "a")
        var c = Table(node: "c")
        table.merge("ep1", c.put("ep1", "on c"), at: 0)
        table.merge("ep2", table.put("ep2", "on a"), at: 0)
        table.suspend(owner: "c")
        #expect(table.live == ["ep2": "on a"])
        table.restore(owner: "c")
        #expect(table.live.count == 2)
        table.suspend(owner: "c")
        let purged = table.purge(owner: "c")
        #expect(purged == ["ep1"])
        #expect(table.entries["ep1"] == nil && table.live == ["ep2": "on a"])
    }

    @Test func pushPullMergeIsIdempotent() {
        var a = Table(node: "a")
        var b = Table(node: "b")
        for index in 0..<20 { _ = a.put("a\(index)", "v\(index)") }
        for index in 0..<20 { _ = b.put("b\(index)", "w\(index)") }
        _ = b.delete("b3", at: 1)
        let changed = a.merge(b.entries, at: 2)
        #expect(changed.count == 20)
        let again = a.merge(b.entries, at: 3)
        #expect(again.isEmpty)
        _ = b.merge(a.entries, at: 3)
        #expect(a.live == b.live && a.live.count == 39)
    }

    @Test func aClockAtItsMaximumSaturatesInsteadOfTrapping() {
        var table = Table(node: "a")
        var remote = Table(node: "b")
        var huge = remote.put("k", "far ahead")
        huge.version.clock = .max
        table.merge("k", huge, at: 0)
        let next = table.put("j", "local")
        #expect(next.version.clock == .max)
        #expect(table.delete("j", at: 1)?.version.clock == .max)
    }
}
