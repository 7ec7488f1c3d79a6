import Foundation
import Gossip
import Logging
import Testing
import TestSupport

/// A cluster gossips over one address family: a seed of the other family is refused at once, with an error
/// naming both addresses, instead of timing out; seeds of the node's own family are still joined.
@Suite("joining seeds of the other address family")
struct AddressFamilyJoinTests {
    static let v4 = GossipAddress(ip: .v4(IPv4Address(10, 0, 0, 1)), port: 7946)
    static let v4Other = GossipAddress(ip: .v4(IPv4Address(10, 0, 0, 3)), port: 7946)
    static let v6 = GossipAddress(parsing: "[fd00:1::2]:7946")!

    static func node(_ name: String, _ address: GossipAddress, on network: SimulatedNetwork) async throws -> GossipNode {
        var logger = Logger(label: "family.\(name)")
        logger.logLevel = .critical
        var configuration = GossipConfiguration(name: name, tags: [:], logger: logger)
        configuration.joinAttempts = 3
        let node = try GossipNode(configuration: configuration, transport: network.attach(address))
        await node.start()
        return node
    }

    /// Runs `body` and stops `nodes` afterwards, also when it throws.
    static func stopping(_ nodes: [GossipNode], _ body: () async throws -> Void) async throws {
        do { try await body() } catch {
            for node in nodes { await node.stop() }
            throw error
        }
        for node in nodes { await node.stop() }
    }

    @Test("an IPv6 node joining an IPv4 seed fails at once, naming both addresses and both families")
    func refusedBothWays() async throws {
        let network = SimulatedNetwork()
        let node4 = try await Self.node("four", Self.v4, on: network)
        let node6 = try await Self.node("six", Self.v6, on: network)
        try await Self.stopping([node4, node6]) {
            let sentBefore = network.packetsSent(from: Self.v6)
            let error = await #expect(throws: GossipError.self) { try await node6.join([Self.v4]) }
            // Refused before any attempt: nothing was sent, so no retry and no timeout was waited for (a wall-clock
            // bound here failed while other tests kept the test process's two threads busy).
            #expect(network.packetsSent(from: Self.v6) == sentBefore, "the node tried to reach a seed of the other family")
            let text = "\(error.map { "\($0)" } ?? "")"
            #expect(text.contains("seed 10.0.0.1:7946 is IPv4"), "\(text)")
            #expect(text.contains("gossips from [fd00:1::2]:7946 (IPv6)"), "\(text)")
            await #expect(throws: GossipError.self) { try await node4.join([Self.v6]) }
            #expect(await node4.members().map(\.name) == ["four"])
            #expect(await node6.members().map(\.name) == ["six"])
        }
    }

    @Test("in a mixed seed list the seed of the node's own family is joined, the other skipped")
    func mixedSeeds() async throws {
        let network = SimulatedNetwork()
        let node4 = try await Self.node("four", Self.v4, on: network)
        let other4 = try await Self.node("four-b", Self.v4Other, on: network)
        try await Self.stopping([node4, other4]) {
            let answered = try await node4.join([Self.v6, Self.v4Other])
            #expect(answered == 1)
            #expect(await node4.member(named: "four-b")?.state == .alive)
        }
    }

    @Test("weft daemon with an IPv4 advertise address and an IPv6 --join does not start, naming both",
          .enabled(if: Executables.weftIsBuilt, "needs the weft executable (swift build)"))
    func daemonRefusesAtStart() async throws {
        let directory = NSTemporaryDirectory() + "weft-family-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A dry run reads the kernel's addresses but changes nothing; the refusal comes before any socket is bound.
        let outcome = try await Command.run([
            Executables.weft, "daemon", "--dry-run", "--advertise-address", "127.0.0.1", "--join", "[::1]:28299",
            "--state-dir", directory + "/state", "--runtime-dir", directory + "/run", "--socket", directory + "/weft.sock",
            "--metrics-address", "none", "--insecure-gossip",
        ], timeout: .seconds(60))
        #expect(!outcome.succeeded)
        #expect(outcome.stderr.contains(
            "seed [::1]:28299 is IPv6 but this host gossips from 127.0.0.1:7946 (IPv4)"), "\(outcome.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/weft.sock"))
    }

    @Test("the family check: same family or a wildcard local address passes, the other family names both")
    func check() {
        #expect(GossipError.otherAddressFamily(seed: Self.v4, local: Self.v4Other) == nil)
        #expect(GossipError.otherAddressFamily(seed: Self.v4, local: GossipAddress(ip: .v6(IPv6Address(0)), port: 7946)) == nil)
        #expect(GossipError.otherAddressFamily(seed: Self.v6, local: GossipAddress(ip: .v4(IPv4Address(0, 0, 0, 0)), port: 7946)) == nil)
        #expect(GossipError.otherAddressFamily(seed: Self.v6, local: Self.v4) == .addressFamilyMismatch(seed: Self.v6, local: Self.v4))
    }
}
