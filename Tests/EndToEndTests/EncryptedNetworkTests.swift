import Foundation
import Testing

/// `-o encrypted` through a real dockerd: until this host has weft's WireGuard datapath, an encrypted network is
/// refused with the reason (never created in plaintext, as the option was silently ignored before), and options
/// weft cannot honour are refused by name.
@Suite(
    "End to end: encrypted networks",
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(3))
)
struct EncryptedNetworkTests {
    @Test("-o encrypted is refused saying why, a non-boolean value and an unknown weft option by name; nothing made")
    func encryptedRefusedWithReason() async throws {
        try await Cluster.with(hosts: 1, beforeDockerd: { host in _ = try await host.startWeft() }) { cluster in
            let host = cluster["h1"]
            let create = ["network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "10.40.0.0/24"]

            let bare = try await host.dockerResult(create + ["-o", "encrypted", "enc"])
            #expect(!bare.succeeded)
            #expect(bare.stderr.contains("is encrypted (-o encrypted) but cannot be created on this host"), "\(bare)")
            #expect(bare.stderr.contains("never sends an encrypted network's traffic in plaintext"), "\(bare)")

            let notBool = try await host.dockerResult(create + ["-o", "encrypted=notabool", "enc"])
            #expect(!notBool.succeeded)
            #expect(notBool.stderr.contains("option encrypted=notabool is invalid: expected true or false"), "\(notBool)")

            let unknown = try await host.dockerResult(create + ["-o", "weft.encrypt=true", "enc"])
            #expect(!unknown.succeeded)
            #expect(unknown.stderr.contains("option weft.encrypt is not supported"), "\(unknown)")

            #expect(try await host.docker("network", "ls", "--format", "{{.Name}}").split(separator: "\n").contains("enc") == false)
            let namespaces = try await host.run([Tools.sh, "-c", "ls /run/weft/netns 2>/dev/null || true"]).check().output
            #expect(namespaces.isEmpty, "weft made a namespace for a refused network: \(namespaces)")

            // encrypted=false is a plain network, as on Docker's overlay.
            try await host.docker(create + ["-o", "encrypted=false", "plain"])
            #expect(try await host.docker("network", "inspect", "--format", "{{.Driver}}", "plain") == "weft")
        }
    }
}
