import Foundation
import TestSupport
import Testing

/// `examples/two-machines.md`, step by step, on two simulated hosts: the first weft starts a cluster and makes
/// its key, `weft key show` carries the key to the second host's state directory, the second joins, and
/// containers placed by weft's IPAM reach each other across. If the walkthrough goes stale, this fails.
@Suite(
    "End to end: the two-machine walkthrough",
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(3))
)
struct TwoMachineWalkthroughTests {
    @Test("first host makes the key, the second gets it with weft key show and joins; a container reaches the other's by IP")
    func walkthrough() async throws {
        try await Cluster.with(hosts: 2) { cluster in
            let (a, b) = (cluster["h1"], cluster["h2"])
            // Fresh machines: no key anywhere (the harness's cluster key file is not used here).
            for host in [a, b] { try FileManager.default.removeItem(atPath: host.weftStateDirectory + "/gossip.key") }

            // 2. The first host starts a cluster and makes its key.
            let first = try await a.startWeft()
            try await Poll.until("h1's weft to say how another host joins", timeout: .seconds(10), interval: .milliseconds(100)) {
                first.log().contains("starts a new cluster with a new gossip key")
            }
            let attributes = try FileManager.default.attributesOfItem(atPath: a.weftStateDirectory + "/gossip.key")
            #expect(attributes[.posixPermissions] as? Int == 0o600)

            // 3. The key goes to the second host (mode 0600), which joins the first.
            let key = try await a.run([PackagePaths.weftBinary, "key", "show", "--socket", TestHost.pluginSocket]).check().output
            #expect(!first.log().contains(key), "the key appeared in weft's log")
            #expect(FileManager.default.createFile(
                atPath: b.weftStateDirectory + "/gossip.key", contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600]))
            _ = try await b.startWeft(arguments: ["--join", a.underlayAddress])

            // 4. The network on each host; 5. a container on each, placed by weft's IPAM, and traffic across.
            for host in [a, b] {
                try await host.docker("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "10.20.0.0/24", "net1")
            }
            try await a.docker("run", "-d", "--name", "web", "--network", "net1", TestImage.reference, "httpd", "-f", "-p", "80", "-h", "/etc")
            let address = try await a.docker("inspect", "-f", "{{.NetworkSettings.Networks.net1.IPAddress}}", "web")
            #expect(address.hasPrefix("10.20.0."))
            try await b.docker("run", "-d", "--name", "client", "--network", "net1", TestImage.reference, "sleep", "600")
            try await Poll.until("a container on h2 to reach web on h1 (\(address))", timeout: .seconds(20), interval: .milliseconds(200)) {
                try await b.dockerResult(["exec", "client", "ping", "-c", "1", "-W", "1", address]).succeeded
            }
            let page = try await b.docker("exec", "client", "wget", "-qO-", "http://\(address)/hostname")
            #expect(try await a.docker("inspect", "-f", "{{.Config.Hostname}}", "web") == page)

            // 7. Clean up: the other host's entries go with the container.
            for (host, container) in [(a, "web"), (b, "client")] { try await host.docker("rm", "-f", container) }
            for host in [a, b] { try await host.docker("network", "rm", "net1") }
            let leftA = try await a.weftNamespaces()
            let leftB = try await b.weftNamespaces()
            #expect(leftA.isEmpty && leftB.isEmpty, "namespaces left: \(leftA) \(leftB)")
        }
    }
}
