import Control
import DockerPlugin
import Glibc
import Netlink
import Overlay
import Testing
import TestSupport

/// The control socket: served by the plugin server's stack with the control router, mode 0600, refusing every
/// user it does not serve (SO_PEERCRED), and clear errors for requests it cannot answer.
@Suite
struct ControlSocketTests {
    /// A source for a host on its own (no gossip), on the dry-run kernel.
    static func standaloneSource() -> StatusSource {
        let backend = DryRunBackend(seedFromCurrentNamespace: false, output: { _ in })
        let store = StateStore(inMemory: PersistentState())
        let host = HostSettings(advertiseAddress: IPAddress("192.0.2.1")!, underlayMTU: 1500, namespaceDirectory: networkNamespaceDirectory)
        let driver = OverlayDriver(host: host, backend: backend, store: store, logger: silentLogger)
        return StatusSource(version: "test", host: host, node: nil, cluster: nil, driver: driver, store: store)
    }

    /// Serves the control API on a socket in a temporary directory for `allowed` users while `body` runs.
    static func withControlSocket(allowed: Set<UInt32>, _ body: @Sendable (String) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/control.sock"
            let server = ControlServer.make(socketPath: path, source: standaloneSource(), allowedUserIDs: allowed, logger: silentLogger)
            let listener = try await server.bind()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await listener.serve() }
                do {
                    try await body(path)
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
                try await group.waitForAll()
            }
        }
    }

    @Test("the socket is mode 0600 and answers its user with the status as JSON")
    func servesItsUser() async throws {
        try await Self.withControlSocket(allowed: [getuid()]) { path in
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
            let reply = try await request(path, "/status")
            #expect(reply.status == 200)
            #expect(reply.body.contains("\"version\":\"test\""), "\(reply.body)")
            #expect(reply.body.contains("\"problems\":[]"), "\(reply.body)")
            let diff = try await request(path, "/diff")
            #expect(diff.status == 200)
            #expect(diff.body == #"{"networks":[]}"#)
        }
    }

    @Test("a client of another user is refused with 403 naming its user, on every request")
    func refusesOtherUsers() async throws {
        let me = getuid()
        try await Self.withControlSocket(allowed: [me &+ 4242]) { path in
            let reply = try await request(path, "/status")
            #expect(reply.status == 403)
            #expect(reply.body.contains("user \(me) may not use this socket: it serves root only"), "\(reply.body)")
            #expect(!reply.body.contains("version"))
        }
    }

    @Test(
        "a real non-root client (nobody, through setpriv and curl): refused by the socket's mode, and by SO_PEERCRED when the mode lets it in",
        .enabled(if: getuid() == 0, "needs root to become another user"))
    func refusesNobody() async throws {
        try await Self.withControlSocket(allowed: [0]) { path in
            let directory = String(path[..<path.lastIndex(of: "/")!])
            #expect(chmod(directory, 0o711) == 0)
            let asNobody = [
                "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "curl", "-sS", "--unix-socket", path,
                "http://weft/status",
            ]
            let denied = try await Command.run(asNobody)
            #expect(!denied.succeeded)
            #expect(denied.stderr.contains("Permission denied") || denied.stderr.contains("Couldn't connect"),
                    "\(denied.stderr)")
            #expect(chmod(path, 0o666) == 0)
            let refused = try await Command.run(asNobody)
            #expect(refused.stdout.contains("user 65534 may not use this socket: it serves root only"),
                    "\(refused.stdout) \(refused.stderr)")
            #expect(!refused.stdout.contains("version"))
            let root = try await request(path, "/status")
            #expect(root.status == 200)
        }
    }

    @Test("bad requests get clear errors: unknown path, wrong method, unknown network, a body")
    func badRequests() async throws {
        try await Self.withControlSocket(allowed: [getuid()]) { path in
            let unknown = try await request(path, "/stats")
            #expect(unknown.status == 404)
            #expect(unknown.body.contains("unknown control path /stats: the control socket serves /status"), "\(unknown.body)")
            let post = try await request(path, "/status", method: "POST")
            #expect(post.status == 405)
            #expect(post.body.contains("/status accepts only GET, not POST"), "\(post.body)")
            let network = try await request(path, "/status/networks/abcd")
            #expect(network.status == 404)
            #expect(network.body.contains(#"no weft network has the ID, ID prefix or VNI \"abcd\""#), "\(network.body)")
            let body = try await request(path, "/status/peers", body: "{}")
            #expect(body.status == 400)
            #expect(body.body.contains("takes no request body"), "\(body.body)")
            let fine = try await request(path, "/status/peers")
            #expect(fine.status == 200)
            #expect(fine.body == "[]")
        }
    }
}

/// `weft encryption rotate`'s route: POST only, refused with the reason where there is no WireGuard.
struct EncryptionRotateRouteTests {
    @Test("POST /encryption/rotate on a host without WireGuard is 409 with the reason; GET is 405")
    func rotateRoute() async throws {
        let router = ControlRouter(source: ControlSocketTests.standaloneSource())
        let refused = await router.respond(method: "POST", path: "/encryption/rotate", body: [])
        #expect(refused.status == 409)
        #expect(String(decoding: refused.body, as: UTF8.self).contains("WireGuard key rotation: this host has no WireGuard datapath"))
        let get = await router.respond(method: "GET", path: "/encryption/rotate", body: [])
        #expect(get.status == 405)
        let body = await router.respond(method: "POST", path: "/encryption/rotate", body: Array("{}".utf8))
        #expect(body.status == 400)
    }
}

/// `weft status` names the WireGuard of encrypted networks, or why there is none.
struct WireGuardStatusLineTests {
    @Test("a host without a WireGuard datapath says encrypted networks are refused, and why")
    func noWireGuard() async {
        let status = await ControlSocketTests.standaloneSource().status()
        #expect(status.wireGuard?.hasPrefix("none: encrypted networks are refused (this weft cannot encrypt yet") == true, "\(status.wireGuard ?? "nil")")
        #expect(StatusText.summary(status).contains("\nwireguard:  none: encrypted networks are refused"))
    }
}
