import DockerPlugin
import Glibc
import Logging
import NIOCore
import NIOPosix
import Overlay
import ServiceLifecycle
import Synchronization
import Testing
import TestSupport

/// Holds backend calls until released, and counts how many are waiting.
final class Gate: Sendable {
    private let state = Mutex<(waiting: Int, open: Bool, continuations: [CheckedContinuation<Void, Never>])>(
        (0, false, []))

    var waiting: Int { state.withLock { $0.waiting } }

    func pass() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                state.waiting += 1
                if state.open { return true }
                state.continuations.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.continuations = [] }
            return state.continuations
        }
        waiting.forEach { $0.resume() }
    }
}

/// A network backend whose CreateNetwork waits at a gate (or until `count` calls are waiting, then opens it).
struct GatedBackend: NetworkDriverBackend {
    let gate: Gate
    var openWhenWaiting: Int? = nil

    func capabilities() async throws -> NetworkDriverCapabilities { NetworkDriverCapabilities(scope: .local) }
    func createNetwork(_ request: CreateNetworkRequest) async throws {
        if let openWhenWaiting, gate.waiting + 1 >= openWhenWaiting {
            gate.open()
        }
        await gate.pass()
    }
    func deleteNetwork(_ request: DeleteNetworkRequest) async throws {}
    func createEndpoint(_ request: CreateEndpointRequest) async throws -> CreateEndpointResponse { .init() }
    func endpointOperationalInfo(_ request: EndpointOperInfoRequest) async throws -> EndpointOperInfoResponse { .init() }
    func deleteEndpoint(_ request: DeleteEndpointRequest) async throws {}
    func join(_ request: JoinRequest) async throws -> JoinResponse { .init() }
    func leave(_ request: LeaveRequest) async throws {}
}

private let createNetworkBody = #"{"NetworkID":"\#(RecordingBackend.knownNetwork)","Options":null}"#

/// Asserts the server still answers on a fresh connection.
private func expectServing(_ path: String) async throws {
    let response = try await withConnection(to: path) { try await $0.call(.activate) }
    #expect(response?.status == 200)
}

@Suite("PluginServer over a Unix socket", .serialized)
struct SocketTests {
    @Test func servesDockersRequestsWithThePluginMediaType() async throws {
        try await withServer { path in
            #expect(permissions(of: path) == 0o600)
            let response = try #require(try await withConnection(to: path) { try await $0.call(.activate) })
            #expect(response.status == 200)
            #expect(response.body == #"{"Implements":["NetworkDriver","IpamDriver"]}"#)
            #expect(response.header("Content-Type") == "application/vnd.docker.plugins.v1+json")
            #expect(response.header("Connection") == nil)
        }
    }

    @Test func keepsConnectionsAliveAndAnswersPipelinedRequestsInOrder() async throws {
        try await withServer { path in
            try await withConnection(to: path) { connection in
                for _ in 0..<5 {
                    #expect(try await connection.call(.networkCapabilities)?.status == 200)
                    #expect(try await connection.call(.createNetwork, createNetworkBody)?.status == 200)
                }
                try await connection.send(
                    dockerRequest(.activate) + dockerRequest(.ipamCapabilities) + dockerRequest(.defaultAddressSpaces))
                #expect(try await connection.readResponse()?.body.contains("Implements") == true)
                #expect(try await connection.readResponse()?.body.contains("RequiresMACAddress") == true)
                #expect(try await connection.readResponse()?.body.contains("LocalDefaultAddressSpace") == true)
            }
        }
    }

    @Test func servesConnectionsConcurrently() async throws {
        // Every CreateNetwork waits until all four are in the backend at once: served one by one, they would
        // never finish (and the clients would give up after 10 s).
        let backend = GatedBackend(gate: Gate(), openWhenWaiting: 4)
        try await withServer(network: backend) { path in
            try await withThrowingTaskGroup(of: Int?.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await withConnection(to: path) { try await $0.call(.createNetwork, createNetworkBody)?.status }
                    }
                }
                for try await status in group {
                    #expect(status == 200)
                }
            }
        }
    }

    @Test func manyClientsWithManyRequestsEachAreAllAnswered() async throws {
        let ipam = AllocatorIpamBackend(allocator: LocalAddressAllocator())
        try await withServer(ipam: ipam) { path in
            _ = try await withConnection(to: path) { try await $0.call(.requestPool, #"{"Pool":"10.1.0.0/16"}"#) }
            let addresses = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        try await withConnection(to: path) { (connection: inout RawConnection) async throws in
                            var handedOut: [String] = []
                            for _ in 0..<20 {
                                let reply = try await connection.call(.requestAddress, #"{"PoolID":"weft:10.1.0.0/16"}"#)
                                handedOut.append(reply?.body ?? "no reply")
                            }
                            return handedOut
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(addresses.count == 320)
            #expect(Set(addresses).count == 320, "every address handed out once")
            #expect(addresses.allSatisfy { $0.hasPrefix(#"{"Address":"10.1."#) })
        }
    }

    @Test func clientsThatVanishMidRequestDoNotDisturbTheServer() async throws {
        try await withServer { path in
            for partial in ["POST /Plugin.Act", "POST /NetworkDriver.CreateNetwork HTTP/1.1\r\nContent-Length: 50\r\n\r\n{"] {
                try await withConnection(to: path) { try await $0.send(partial) }
            }
            // One that sends a request and leaves before reading the reply.
            try await withConnection(to: path) { try await $0.send(dockerRequest(.createNetwork, createNetworkBody)) }
            try await expectServing(path)
        }
    }

    @Test func unknownPathsAndOtherMethodsGetErrBodiesAndTheConnectionStaysUsable() async throws {
        try await withServer { path in
            try await withConnection(to: path) { connection in
                try await connection.send("POST /VolumeDriver.Create HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
                let unknown = try #require(try await connection.readResponse())
                #expect(unknown.status == 404)
                #expect(unknown.body == #"{"Err":"unknown plugin API path /VolumeDriver.Create"}"#)
                try await connection.send("GET /Plugin.Activate HTTP/1.1\r\nHost: x\r\n\r\n")
                let get = try #require(try await connection.readResponse())
                #expect(get.status == 405)
                #expect(get.header("Allow") == "POST")
                #expect(get.body.contains("accepts only POST"))
                #expect(try await connection.call(.activate)?.status == 200)
            }
        }
    }

    @Test func badBodiesGetErrAndTheServerStaysUp() async throws {
        try await withServer { path in
            for body in ["{", "[]", #"{"NetworkID":5}"#, "\u{0}\u{1}garbage", "null"] {
                let response = try await withConnection(to: path) { try await $0.call(.createNetwork, body) }
                #expect(response?.status == 400)
                #expect(response?.body.hasPrefix(#"{"Err":"invalid NetworkDriver.CreateNetwork request: "#) == true)
            }
            // Not HTTP at all: NIO answers 400 and closes; the server carries on.
            let garbage = try await withConnection(to: path) { connection in
                try await connection.send("HELLO\0\r\n\r\n")
                return try await connection.readUntilClosed()
            }
            #expect(String(decoding: garbage, as: UTF8.self).hasPrefix("HTTP/1.1 400"))
            try await expectServing(path)
        }
    }

    @Test func anOversizedBodyIsAnswered413AndTheConnectionDrained() async throws {
        try await withServer { path in
            try await withConnection(to: path) { connection in
                let size = (1 << 20) + 1
                try await connection.send(
                    "POST /NetworkDriver.CreateNetwork HTTP/1.1\r\nHost: x\r\nContent-Length: \(size)\r\n\r\n")
                let chunk = [UInt8](repeating: UInt8(ascii: " "), count: 64 * 1024)
                var sent = 0
                while sent < size {
                    let count = min(chunk.count, size - sent)
                    try await connection.send(Array(chunk[..<count]))
                    sent += count
                }
                let response = try #require(try await connection.readResponse())
                #expect(response.status == 413)
                #expect(
                    response.body
                        == #"{"Err":"request body of 1048577 bytes exceeds the limit of 1048576 bytes"}"#)
                // The body was read and discarded, so the connection still works.
                #expect(try await connection.call(.activate)?.status == 200)
            }
        }
    }

    @Test func aHugeDeclaredBodyIsRefusedAtOnceAndTheConnectionClosed() async throws {
        try await withServer { path in
            try await withConnection(to: path) { connection in
                try await connection.send(
                    "POST /NetworkDriver.CreateNetwork HTTP/1.1\r\nContent-Length: 104857600\r\n\r\n{\"NetworkID\":")
                let response = try #require(try await connection.readResponse())
                #expect(response.status == 413)
                #expect(response.header("Connection") == "close")
                #expect(response.body.contains("exceeds the limit of 1048576 bytes"))
                #expect(try await connection.readUntilClosed().isEmpty)
            }
            try await expectServing(path)
        }
    }

    @Test func aChunkedBodyOverTheLimitIsRefused() async throws {
        try await withServer(configure: { $0.maxBodySize = 1024 }) { path in
            try await withConnection(to: path) { connection in
                let chunk = String(repeating: " ", count: 2048)
                try await connection.send(
                    "POST /NetworkDriver.CreateNetwork HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "800\r\n\(chunk)\r\n0\r\n\r\n")
                #expect(try await connection.readResponse()?.status == 413)
                #expect(try await connection.call(.activate)?.status == 200)
            }
        }
    }

    @Test func expectContinueIsAnsweredAndOversizedBodiesAreRefusedBeforeBeingSent() async throws {
        try await withServer { path in
            try await withConnection(to: path) { connection in
                let body = createNetworkBody
                try await connection.send(
                    "POST /NetworkDriver.CreateNetwork HTTP/1.1\r\nExpect: 100-continue\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n\r\n")
                #expect(try await connection.readResponse()?.status == 100)
                try await connection.send(body)
                #expect(try await connection.readResponse()?.status == 200)
            }
            try await withConnection(to: path) { connection in
                try await connection.send(
                    "POST /NetworkDriver.CreateNetwork HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n")
                #expect(try await connection.readResponse()?.status == 413)
                #expect(try await connection.readUntilClosed().isEmpty)
            }
        }
    }

    @Test func aStalledClientIsTimedOutWhileOthersAreServed() async throws {
        try await withServer(configure: { $0.requestTimeout = .milliseconds(300) }) { path in
            try await withConnection(to: path) { stalled in
                let start = ContinuousClock.now
                try await stalled.send(
                    "POST /NetworkDriver.CreateNetwork HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"Netw")
                // Meanwhile another client is served normally.
                try await withConnection(to: path) { (other: inout RawConnection) async throws in
                    for _ in 0..<3 {
                        #expect(try await other.call(.activate)?.status == 200)
                    }
                }
                let response = try #require(try await stalled.readResponse())
                #expect(response.status == 408)
                #expect(response.body == #"{"Err":"request not completed within 300 ms; closing the connection"}"#)
                #expect(try await stalled.readUntilClosed().isEmpty)
                let elapsed = ContinuousClock.now - start
                #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(5))
            }
            try await expectServing(path)
        }
    }

    @Test func aClientStalledInsideTheRequestHeadIsClosed() async throws {
        try await withServer(configure: {
            $0.requestTimeout = .milliseconds(300)
            $0.idleTimeout = .seconds(60)
        }) { path in
            try await withConnection(to: path) { stalled in
                let start = ContinuousClock.now
                try await stalled.send("POST /Plugin.Activate HTTP/1.1\r\nHost: plugin.moby.localhost\r\nContent-Le")
                #expect(try await stalled.readUntilClosed().isEmpty)
                let elapsed = ContinuousClock.now - start
                #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(5))
            }
            try await expectServing(path)
        }
    }

    @Test func connectionCloseAndHTTP10AreHonoured() async throws {
        try await withServer { path in
            let closing = try await withConnection(to: path) { connection in
                try await connection.send(dockerRequest(.activate, extraHeaders: "Connection: close\r\n"))
                let response = try await connection.readResponse()
                return (response?.status, response?.header("Connection"), try await connection.readUntilClosed().count)
            }
            #expect(closing.0 == 200 && closing.1 == "close" && closing.2 == 0)
            let old = try await withConnection(to: path) { connection in
                try await connection.send("POST /Plugin.Activate HTTP/1.0\r\n\r\n")
                let response = try await connection.readResponse()
                return (response?.status, try await connection.readUntilClosed().count)
            }
            #expect(old.0 == 200 && old.1 == 0)
        }
    }

    @Test func aStaleSocketFileIsReplaced() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/stale.sock"
            try makeStaleSocket(at: path)
            let server = PluginServer(
                configuration: PluginServerConfiguration(socketPath: path),
                router: PluginRouter(network: RecordingBackend(), ipam: RecordingBackend()), logger: silentLogger)
            let listener = try await server.bind()
            let serving = Task { try await listener.serve() }
            try await expectServing(path)
            serving.cancel()
            try await serving.value
            #expect(access(path, F_OK) != 0)
        }
    }

    @Test func aSecondServerOnALiveSocketIsRefused() async throws {
        try await withServer { path in
            let second = PluginServer(
                configuration: PluginServerConfiguration(socketPath: path),
                router: PluginRouter(network: RecordingBackend(), ipam: RecordingBackend()), logger: silentLogger)
            await #expect(throws: PluginServerError.socketInUse(path: path)) { try await second.run() }
            #expect(
                PluginServerError.socketInUse(path: path).description
                    == "another process is already listening on \(path); stop it first (weft does not take over a live socket)")
            try await expectServing(path)
        }
    }

    @Test func aFileThatIsNotASocketIsLeftAlone() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/file.sock"
            let descriptor = open(path, O_CREAT | O_WRONLY, 0o644)
            close(descriptor)
            let server = PluginServer(
                configuration: PluginServerConfiguration(socketPath: path),
                router: PluginRouter(network: RecordingBackend(), ipam: RecordingBackend()), logger: silentLogger)
            await #expect(throws: PluginServerError.notASocket(path: path)) { try await server.bind() }
            #expect(access(path, F_OK) == 0)
        }
    }

    @Test func tooLongPathsAndMissingDirectoriesAreHandled() async throws {
        try await withTemporaryDirectory { directory in
            let long = directory + "/" + String(repeating: "x", count: 100) + ".sock"
            let server = PluginServer(
                configuration: PluginServerConfiguration(socketPath: long),
                router: PluginRouter(network: RecordingBackend(), ipam: RecordingBackend()), logger: silentLogger)
            await #expect(throws: PluginServerError.socketPathTooLong(path: long, limit: 107)) { try await server.bind() }

            // The plugins directory is created when missing, as on a host where Docker never made it.
            let nested = directory + "/d"
            let path = nested + "/p.sock"
            let listener = try await PluginServer(
                configuration: PluginServerConfiguration(socketPath: path, socketPermissions: 0o660),
                router: PluginRouter(network: RecordingBackend(), ipam: RecordingBackend()), logger: silentLogger
            ).bind()
            let serving = Task { try await listener.serve() }
            #expect(permissions(of: path) == 0o660)
            try await expectServing(path)
            serving.cancel()
            try await serving.value
            rmdir(nested)
        }
    }

    @Test func gracefulShutdownFinishesRequestsInFlightAndReturnsCleanly() async throws {
        let gate = Gate()
        try await withTemporaryDirectory { directory in
            let path = directory + "/p.sock"
            let server = PluginServer(
                configuration: PluginServerConfiguration(socketPath: path),
                router: PluginRouter(network: GatedBackend(gate: gate), ipam: RecordingBackend()), logger: silentLogger)
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(services: [server], logger: silentLogger))
            let running = Task { try await group.run() }
            #expect(await eventually(within: .seconds(5), every: .milliseconds(10)) { access(path, F_OK) == 0 } != nil)
            try await withConnection(to: path) { connection in
                try await connection.send(dockerRequest(.createNetwork, createNetworkBody))
                #expect(await eventually(within: .seconds(5), every: .milliseconds(10)) { gate.waiting == 1 } != nil)
                await group.triggerGracefulShutdown()
                // No new connections once shutdown has begun...
                #expect(
                    await eventually(within: .seconds(5), every: .milliseconds(10)) {
                        do {
                            _ = try await withConnection(to: path) { try await $0.call(.activate) }
                            return false
                        } catch {
                            return true
                        }
                    } != nil)
                // ...but the request in flight completes, and then the connection is closed.
                gate.open()
                #expect(try await connection.readResponse()?.status == 200)
                #expect(try await connection.readUntilClosed().isEmpty)
            }
            // ServiceGroup.run returns without error: no CancellationError escapes.
            try await running.value
            #expect(access(path, F_OK) != 0)
        }
    }

    @Test func logsOneLinePerRequestWithRouteOutcomeAndDuration() async throws {
        let capture = LogCapture()
        try await withServer(logger: capture.logger()) { path in
            try await withConnection(to: path) { connection in
                _ = try await connection.call(.activate)
                _ = try await connection.call(.createNetwork, "{")
            }
        }
        let requests = capture.records.filter { $0.metadata["route"] != nil }
        #expect(requests.count == 2)
        #expect(requests.map { $0.metadata["route"] } == ["Plugin.Activate", "NetworkDriver.CreateNetwork"])
        #expect(requests.map { $0.metadata["status"] } == ["200", "400"])
        #expect(requests.map { $0.metadata["outcome"] } == ["ok", "failed"])
        #expect(requests.allSatisfy { $0.metadata["duration_ms"].flatMap(Double.init) != nil })
        #expect(requests[1].metadata["error"]?.contains("malformed JSON") == true)
        #expect(requests[1].level == .warning)
    }

    @Test("a request the backend holds past the slow-request bound gets one warning while pending, and its answer")
    func warnsOnceAboutARequestTheBackendHolds() async throws {
        let capture = LogCapture()
        let gate = Gate()
        try await withServer(network: GatedBackend(gate: gate), logger: capture.logger(),
                             configure: { $0.slowRequestWarning = .milliseconds(100) }) { path in
            try await withConnection(to: path) { connection in
                try await connection.send(dockerRequest(.createNetwork, createNetworkBody))
                let warned = await eventually(within: .seconds(10)) {
                    capture.records.contains { $0.level == .warning && $0.message.contains("still unanswered") }
                }
                #expect(warned != nil, "no slow-request warning while the backend held the request")
                #expect(gate.waiting == 1)
                gate.open()
                #expect(try await connection.readResponse()?.status == 200)
            }
        }
        let warnings = capture.records.filter { $0.message.contains("still unanswered") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.metadata["route"] == "NetworkDriver.CreateNetwork")
    }

    @Test func servesTheAllocatorEndToEnd() async throws {
        try await withServer(ipam: AllocatorIpamBackend(allocator: LocalAddressAllocator())) { path in
            try await withConnection(to: path) { connection in
                let pool = try await connection.call(
                    .requestPool, #"{"AddressSpace":"weft-local","Pool":"10.1.0.0/29","SubPool":"","Options":null,"V6":false}"#)
                #expect(pool?.body == #"{"Data":{},"Pool":"10.1.0.0/29","PoolID":"weft:10.1.0.0/29"}"#)
                for _ in 1...6 {
                    #expect(try await connection.call(.requestAddress, #"{"PoolID":"weft:10.1.0.0/29"}"#)?.status == 200)
                }
                let full = try await connection.call(.requestAddress, #"{"PoolID":"weft:10.1.0.0/29"}"#)
                #expect(full?.status == 500)
                #expect(
                    full?.body
                        == #"{"Err":"address request in pool weft:10.1.0.0/29: pool 10.1.0.0/29 has no free address"}"#)
            }
        }
    }
}
