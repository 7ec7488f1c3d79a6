import Foundation
import TestSupport
import Testing

/// `examples/compose/docker-compose.yml`, brought up as a user would (Debian's docker-compose against a real
/// engine with weft): the example cannot go stale without this test failing.
@Suite(
    "End to end: the compose example",
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(3))
)
struct ComposeExampleTests {
    static let composeFile = PackagePaths.root.appendingPathComponent("examples/compose/docker-compose.yml").path

    static func compose(_ host: TestHost, _ arguments: [String]) async throws -> CommandResult {
        var environment = host.dockerEnvironment
        environment["DOCKER_HOST"] = "unix://\(host.dockerSocket)"
        environment["WEFT_EXAMPLE_IMAGE"] = TestImage.reference
        return try await Command.run(
            [Tools.path("docker-compose"), "--project-name", "example", "--file", composeFile] + arguments,
            environment: environment, timeout: .seconds(90))
    }

    @Test("docker-compose up: the network is weft's with weft's IPAM, client reaches web by name; down removes it")
    func composeUpAndDown() async throws {
        try await Cluster.with(hosts: 1, beforeDockerd: { host in _ = try await host.startWeft(arguments: ["--log-level", "debug"]) }) { cluster in
            let host = cluster["h1"]
            try await Self.compose(host, ["up", "--detach"]).check()
            let drivers = try await host.docker("network", "inspect", "example_app", "--format", "{{.Driver}} {{.IPAM.Driver}}")
            #expect(drivers == "weft weft")
            var answer = ""
            try await Poll.until("client to reach web by name", timeout: .seconds(30), interval: .milliseconds(300)) {
                let result = try await Self.compose(host, ["exec", "-T", "client", "wget", "-qO-", "http://web/hostname"])
                answer = result.output
                return result.succeeded && !answer.isEmpty
            }
            let webID = try await host.docker("ps", "--filter", "label=com.docker.compose.service=web", "--format", "{{.ID}}")
            #expect(webID.hasPrefix(answer) || answer.hasPrefix(webID), "web answered \(answer), its container is \(webID)")
            try await Self.compose(host, ["down"]).check()
            let left = try await host.dockerResult(["network", "inspect", "example_app"])
            #expect(!left.succeeded, "the network outlived docker-compose down")
            #expect(try await host.weftNamespaces().isEmpty)
        }
    }
}
