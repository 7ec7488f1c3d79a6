import Logging
import Netlink
import Overlay
import Synchronization

/// An overlay driver on the dry-run backend: no root, no kernel, but the same requests and the same model of
/// the kernel's answers; printed commands are collected.
final class DriverHarness: Sendable {
    final class Printed: Sendable {
        let lines = Mutex<[String]>([])
    }

    static let host = HostSettings(
        advertiseAddress: IPAddress("192.0.2.1")!, underlayMTU: 1500, namespaceDirectory: "/run/weft-test/netns")

    let printed = Printed()
    let backend: DryRunBackend
    let store: StateStore

    init(store: StateStore = StateStore(inMemory: PersistentState())) {
        let printed = self.printed
        backend = DryRunBackend(seedFromCurrentNamespace: false) { line in printed.lines.withLock { $0.append(line) } }
        self.store = store
    }

    /// A driver over this harness's backend and store (a second one stands for weft after a restart).
    func driver() -> OverlayDriver {
        OverlayDriver(host: Self.host, backend: backend, store: store, logger: Logger(label: "test"))
    }

    func take() -> [String] {
        printed.lines.withLock { lines in
            defer { lines.removeAll() }
            return lines
        }
    }

    /// The network namespace's session for a VNI.
    func session(vni: UInt32) throws -> NetlinkSession {
        try backend.session(in: KernelLayout(vni: VNI(vni)!, namespaceDirectory: Self.host.namespaceDirectory).namespace)
    }

    /// A CreateNetwork request with Docker's option strings, parsed as the plugin's edge parses them.
    static func network(_ id: String = "net1", subnet: String = "10.1.0.0/24", options: [String: String] = [:])
        throws(DriverError) -> NetworkCreation
    {
        NetworkCreation(id: id, options: try NetworkOptions(parsing: options),
                        ipv4Pools: [.init(subnet: OverlayTests.subnet(subnet), gateway: nil)])
    }
}

extension OverlayDriver {
    /// AllocateNetwork with Docker's option strings, parsed as the plugin's edge parses them.
    func allocateNetwork(id: String, subnet: IPv4Subnet, options: [String: String]) async throws(DriverError) -> VNI {
        try await allocateNetwork(id: id, subnet: subnet, options: try NetworkOptions(parsing: options))
    }
}
