import Control
import DockerPlugin
import Foundation
import Overlay
import ServiceLifecycle
import Testing
import TestSupport

/// `GET /events?follow`: a watcher gets each event as it is recorded; watchers are bounded in number and in the
/// events waiting for each (a slow reader is cut off and counted).
@Suite
struct EventStreamTests {
    /// A standalone daemon's status whose events are `journal`'s.
    static func source(_ journal: EventJournal) -> StatusSource {
        let base = ControlSocketTests.standaloneSource()
        return StatusSource(
            version: "test", host: base.host, node: nil, cluster: nil, driver: base.driver, store: base.store, journal: journal)
    }

    static func router(_ journal: EventJournal, maxWatchers: Int = 8, maxBehind: Int = 256, heartbeat: Duration = .seconds(60))
        -> (ControlRouter, EventWatchers)
    {
        let watchers = EventWatchers(journal: journal, maxWatchers: maxWatchers, maxBehind: maxBehind, heartbeat: heartbeat)
        return (ControlRouter(source: source(journal), watchers: watchers), watchers)
    }

    /// The control server for `journal`'s events on a socket in a temporary directory, for this user, not yet
    /// bound; `body` gets it and the socket's path.
    static func withServer(_ journal: EventJournal, _ body: (PluginServer, _ path: String) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/control.sock"
            try await body(
                ControlServer.make(socketPath: path, source: source(journal), allowedUserIDs: [getuid()], logger: silentLogger), path)
        }
    }

    static func follow(_ router: ControlRouter, _ query: String = "") async throws -> StreamedBody {
        let reply = await router.respond(method: "GET", path: "/events?follow" + query, body: [])
        #expect(reply.status == 200)
        #expect(reply.mediaType == "application/x-ndjson")
        return try #require(reply.stream, "no stream for /events?follow: \(reply.status) \(reply.error ?? "")")
    }

    @Test("a parked watcher is woken by an event recorded after it began waiting (not by the heartbeat), as one JSON line")
    func eventArrivesPromptly() async throws {
        let journal = EventJournal()
        journal.record("ipam", subject: "10.1.0.0/24", "claimed block 10.1.0.0/26")  // before: not sent
        let (router, _) = Self.router(journal)
        let stream = try await Self.follow(router)
        let reader = Task { () -> (line: String, at: ContinuousClock.Instant)? in
            var lines = stream.chunks.makeAsyncIterator()
            guard let chunk = await lines.next() else { return nil }
            return (String(decoding: chunk, as: UTF8.self), .now)
        }
        #expect(await eventually(within: .seconds(30)) { journal.waitingReaders == 1 } != nil, "the watcher never waited")
        let recorded = ContinuousClock.now
        journal.record("membership", subject: "h3", "h3 failed")
        let received = try #require(await reader.value)
        let delay = received.at - recorded
        // Woken by the event, not by the 10 s idle heartbeat (which would have come first, as an empty line):
        // the bound is the design's, since on a busy test process wall-clock latency is not the watcher's own.
        #expect(delay < .seconds(10), "the event took \(delay)")
        print("event delivered to a parked watcher after \(delay)")
        #expect(received.line.hasSuffix("}\n") && received.line.filter { $0 == "\n" }.count == 1, "\(received.line)")
        let event = try JSONDecoder().decode(OverlayEvent.self, from: Data(received.line.utf8))
        #expect(event.sequence == 2 && event.kind == "membership" && event.detail == "h3 failed")
        stream.end()
    }

    @Test("follow&after=N starts after N; an idle watcher gets an empty heartbeat line")
    func afterAndHeartbeat() async throws {
        let journal = EventJournal()
        for index in 1...3 { journal.record("ipam", subject: "pool", "event \(index)") }
        let (router, _) = Self.router(journal, heartbeat: .milliseconds(100))
        let stream = try await Self.follow(router, "&after=1")
        var chunks = stream.chunks.makeAsyncIterator()
        let first = String(decoding: try #require(await chunks.next()), as: UTF8.self)
        #expect(first.split(separator: "\n").map { try? JSONDecoder().decode(OverlayEvent.self, from: Data($0.utf8)).sequence } == [2, 3])
        #expect(await chunks.next() == [0x0A])
        stream.end()
    }

    @Test("at most maxWatchers follow: the next is refused with 503 and counted; a slot frees when a watcher ends")
    func watcherBound() async throws {
        let journal = EventJournal()
        let (router, watchers) = Self.router(journal, maxWatchers: 2)
        let first = try await Self.follow(router)
        let second = try await Self.follow(router)
        let refused = await router.respond(method: "GET", path: "/events?follow", body: [])
        #expect(refused.status == 503)
        #expect(refused.stream == nil)
        #expect(refused.error == "too many event watchers: 2 already follow this daemon's events")
        #expect(watchers.counts.watching == 2 && watchers.counts.refused == 1)
        first.end()
        #expect(watchers.counts.watching == 1)
        let third = try await Self.follow(router)
        #expect(watchers.counts.watching == 2)
        second.end()
        third.end()
        #expect(watchers.counts.watching == 0)
    }

    @Test("a watcher more than maxBehind events behind is cut off with a last line saying why, and counted")
    func slowReaderCutOff() async throws {
        let journal = EventJournal()
        let (router, watchers) = Self.router(journal, maxBehind: 4)
        let stream = try await Self.follow(router)
        for index in 1...5 { journal.record("correction", subject: "net 00002a", "wrote entry \(index)") }
        var chunks = stream.chunks.makeAsyncIterator()
        let last = String(decoding: try #require(await chunks.next()), as: UTF8.self)
        let notice = try JSONDecoder().decode(EventStreamNotice.self, from: Data(last.utf8))
        #expect(notice.error.hasPrefix("cut off: 5 events behind, more than the 4"), "\(notice.error)")
        #expect(await chunks.next() == nil)
        #expect(watchers.counts.cutOff == 1)
        stream.end()
        #expect(watchers.counts.watching == 0)
    }

    @Test("over the control socket: the reply is chunked, PluginClient.follow hands over each event line as it comes")
    func overTheSocket() async throws {
        let journal = EventJournal()
        try await Self.withServer(journal) { server, path in
            let listener = try await server.bind()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await listener.serve() }
                let reader = Task {
                    try await onThread {
                        var seen: [String] = []
                        let reply = try PluginClient(path: path).follow("/events?follow") { line in
                            if !line.isEmpty { seen.append(line) }
                            return seen.count < 2
                        }
                        return (reply.status, seen)
                    }
                }
                #expect(await eventually(within: .seconds(30)) { journal.waitingReaders == 1 } != nil, "no watcher")
                journal.record("membership", subject: "h2", "h2 joined")
                #expect(await eventually(within: .seconds(30)) { journal.waitingReaders == 1 } != nil, "no second wait")
                journal.record("membership", subject: "h3", "h3 joined")
                let (status, lines) = try await reader.value
                #expect(status == 200)
                let events = try lines.map { try JSONDecoder().decode(OverlayEvent.self, from: Data($0.utf8)) }
                #expect(events.map(\.subject) == ["h2", "h3"])
                group.cancelAll()
                try await group.waitForAll()
            }
        }
    }

    @Test("a graceful shutdown of the daemon ends a follower's stream with a last line, and the server stops", .timeLimit(.minutes(1)))
    func gracefulShutdownEndsTheStream() async throws {
        let journal = EventJournal()
        try await Self.withServer(journal) { server, path in
            let group = ServiceGroup(services: [server], logger: silentLogger)
            let running = Task { try await group.run() }
            #expect(await eventually(within: .seconds(30)) { FileManager.default.fileExists(atPath: path) } != nil)
            let reader = Task {
                try await onThread {
                    var lines: [String] = []
                    let reply = try PluginClient(path: path).follow("/events?follow") { line in
                        if !line.isEmpty { lines.append(line) }
                        return true
                    }
                    return (reply.status, lines)
                }
            }
            #expect(await eventually(within: .seconds(30)) { journal.waitingReaders == 1 } != nil, "no watcher")
            let clock = ContinuousClock()
            let started = clock.now
            await group.triggerGracefulShutdown()
            let (status, lines) = try await reader.value
            try await running.value
            print("graceful shutdown with a follower: stream ended and server stopped after \(clock.now - started)")
            #expect(status == 200)
            #expect(lines == [#"{"error":"the daemon is stopping"}"#])
        }
    }
}
