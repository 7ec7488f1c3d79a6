import Control
import DockerPlugin
import Overlay
import Testing

/// The event journal: numbered in order, bounded, read after a sequence number; and its route.
@Suite
struct EventJournalTests {
    @Test("events are numbered from 1; a reader gets those after its number; the oldest go beyond the capacity")
    func ring() {
        let journal = EventJournal(capacity: 3)
        #expect(journal.events(after: 0).latest == 0)
        for index in 1...5 { journal.record("ipam", subject: "10.1.0.0/24", "claimed block \(index)") }
        let all = journal.events(after: 0)
        #expect(all.latest == 5)
        #expect(all.events.map(\.sequence) == [3, 4, 5])
        #expect(journal.events(after: 4).events.map(\.detail) == ["claimed block 5"])
        #expect(journal.events(after: 5).events.isEmpty)
        #expect(journal.events(after: 0, limit: 1).events.map(\.sequence) == [3])
    }

    @Test("GET /events?after=N answers the batch; a malformed query gets 400 saying what it takes")
    func route() async {
        let journal = EventJournal()
        journal.record("error", subject: "net 00002a", "cannot program remote entries")
        let base = ControlSocketTests.standaloneSource()
        let source = StatusSource(
            version: "test", host: base.host, node: nil, cluster: nil, driver: base.driver, store: base.store, journal: journal)
        let router = ControlRouter(source: source)
        let reply = await router.respond(method: "GET", path: "/events?after=0", body: [])
        #expect(reply.status == 200)
        #expect(String(decoding: reply.body, as: UTF8.self).contains(#""latest":1"#))
        let bad = await router.respond(method: "GET", path: "/events?since=3", body: [])
        #expect(bad.status == 400)
        #expect(bad.error?.contains("/events takes ?after=N") == true)
    }
}
