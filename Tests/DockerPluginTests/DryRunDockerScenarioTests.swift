import DockerPlugin
import Foundation
import Logging
import Netlink
import Overlay
import Synchronization
import Testing

/// dockerd's requests for one container's life on a weft network (captured from dockerd 20.10.24), served by
/// the real router, driver and IPAM on the dry-run backend: the printed kernel commands must match the golden
/// file `Golden/dry-run-container-lifecycle.txt`, with MAC addresses (random) shown as `<mac>`.
struct DryRunDockerScenarioTests {
    final class Printed: Sendable {
        let lines = Mutex<[String]>([])
    }

    @Test func containerLifecyclePrintsTheGoldenCommands() async throws {
        let printed = Printed()
        let backend = DryRunBackend(seedFromCurrentNamespace: false) { line in printed.lines.withLock { $0.append(line) } }
        let host = HostSettings(advertiseAddress: IPAddress("192.0.2.1")!, underlayMTU: 1500, namespaceDirectory: "/run/weft/netns")
        let store = StateStore(inMemory: PersistentState())
        let driver = OverlayDriver(host: host, backend: backend, store: store, logger: Logger(label: "test"))
        try await driver.start()
        let router = PluginRouter(
            network: OverlayNetworkBackend(driver: driver),
            ipam: AllocatorIpamBackend(allocator: LocalAddressAllocator(store: store)))
        for call in containerLifecycle {
            let response = await router.respond(method: "POST", path: "/" + call.path, body: Array(call.body.utf8))
            #expect(response.status == 200, "\(call.path): \(String(decoding: response.body, as: UTF8.self))")
        }
        let mac = try Regex("([0-9a-f]{2}:){5}[0-9a-f]{2}")
        let actual = printed.lines.withLock { $0 }.map { $0.replacing(mac, with: "<mac>") }
        let goldenPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden/dry-run-container-lifecycle.txt")
        let golden = try String(contentsOf: goldenPath, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(actual == golden)
        // Everything was undone: the state is empty again.
        #expect(store.current.networks.isEmpty && store.current.endpoints.isEmpty && store.current.ipam.pools.isEmpty)
    }
}
