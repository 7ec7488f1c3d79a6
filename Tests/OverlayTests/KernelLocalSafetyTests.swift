import Foundation
import Glibc
import Logging
import Netlink
import Overlay
import TestSupport
import Testing

/// The driver's local safety against the real kernel, in a runtime directory and host namespace of the test's.
@Suite(.enabled(if: Privileges.canRunKernelTests, "needs root for network namespaces"))
struct KernelLocalSafetyTests {
    let backend = KernelBackend()

    /// A driver whose host is a throwaway namespace and whose namespaces live under `/run/<tag>/netns`;
    /// everything is removed after `body`, also when it fails.
    func withDriver(
        _ purpose: String, _ body: (OverlayDriver, ClusterState, _ directory: String, _ hostNamespace: String) async throws -> Void
    ) async throws {
        try await DriverNamespaces.with(purpose) { namespaces in
            let host = HostSettings(
                advertiseAddress: IPAddress("192.0.2.1")!, underlayMTU: 1500, namespaceDirectory: namespaces.directory)
            let cluster = ClusterState(node: "a", logger: Logger(label: "test"))
            let driver = OverlayDriver(
                host: host, backend: backend, store: StateStore(inMemory: PersistentState()), logger: Logger(label: "test"),
                hostNamespace: .named(namespaces.host), cluster: cluster)
            try await body(driver, cluster, namespaces.directory, namespaces.host)
        }
    }

    @Test("start removes links planted among the namespaces without following them")
    func startupCleanupFollowsNoLink() async throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("weft-victim-\(UUID().uuidString)").path
        try "keep".write(toFile: outside, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try await withDriver("cln") { driver, _, directory, hostName in
            let target = "/run/netns/\(hostName)"
            #expect(symlink(outside, "\(directory)/00002a") == 0)
            #expect(symlink(target, "\(directory)/00002b") == 0)
            try await driver.start()
            #expect((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? ["?"] == [])
            #expect(try String(contentsOfFile: outside, encoding: .utf8) == "keep")
            let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
            #expect(mounts.contains(" \(target) "), "the host namespace behind the link was unmounted")
        }
    }

    @Test("concurrent CreateNetwork with one VNI: one network, one bridge, the others refused")
    func concurrentCreate() async throws {
        try await withDriver("race") { driver, cluster, directory, _ in
            let ids = (0..<8).map { "net\($0)" }
            let results = try await RequestRace.run(ids, driver: driver, cluster: cluster) { id throws(DriverError) in
                try await driver.createNetwork(NetworkCreation(
                    id: id, options: NetworkOptions(vni: VNI(78)), ipv4Pools: [.init(subnet: subnet("10.9.0.0/24"), gateway: nil)]))
            }.values
            #expect(results.filter { $0 == nil }.count == 1)
            #expect(results.compactMap { $0 }.allSatisfy { if case .vniInUse = $0 { true } else { false } })
            let links = try IPRoute2.links(in: "../\(directory.dropFirst("/run/".count))/00004e")
            let vxlan = try #require(links.first { $0.ifname == "wvx-00004e" })
            #expect(vxlan.master == "wbr-00004e" && vxlan.isUp)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["00004e"])
        }
    }
}
