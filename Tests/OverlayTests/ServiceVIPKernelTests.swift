import Foundation
import Logging
import Netlink
import Overlay
import TestSupport
import Testing

/// The VIP server against the real kernel and nftables: a network made by the driver, three "containers"
/// (namespaces) on it, two of them running busybox httpd as a service's tasks, the third asking the VIP.
@Suite(.enabled(if: Privileges.canRunKernelTests, "needs root for network namespaces"))
struct ServiceVIPKernelTests {
    /// A fixed description of the network, changed by the test.
    final class Records: ServiceRecordSource, @unchecked Sendable {
        private let lock = NSLock()
        private var tasks: [String]? = []
        func set(_ tasks: [String]?) { lock.withLock { self.tasks = tasks } }
        func networkDescription(_ id: String) async throws -> [UInt8] {
            let tasks = lock.withLock { self.tasks }
            guard let tasks else { return Array(#"{"Id":"net1","Services":{}}"#.utf8) }
            let list = tasks.map { #"{"Name":"web.x","EndpointIP":"\#($0)"}"# }.joined(separator: ",")
            return Array(#"{"Id":"net1","Services":{"web":{"VIP":"10.9.0.100","Tasks":[\#(list)]}}}"#.utf8)
        }
    }

    @Test("a VIP answers from both tasks, from the remaining one after a scale-down, not after the service goes; nothing is left")
    func vipAnswersAndGoes() async throws {
        try await DriverNamespaces.with("vip", containers: ["1", "2", "c"]) { namespaces in
            let directory = namespaces.directory
            let backend = KernelBackend()
            let names = (host: namespaces.host, tasks: Array(namespaces.containers.prefix(2)), client: namespaces.containers[2])
            let site = FileManager.default.temporaryDirectory.appendingPathComponent(namespaces.tag).path
            defer { try? FileManager.default.removeItem(atPath: site) }
            let host = HostSettings(advertiseAddress: IPAddress("192.0.2.1")!, underlayMTU: 1500, namespaceDirectory: directory)
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let store = StateStore(inMemory: PersistentState())
            let driver = OverlayDriver(host: host, backend: backend, store: store, logger: logger, hostNamespace: .named(names.host))
            try await driver.start()
            try await driver.createNetwork(
                NetworkCreation(id: "net1", options: NetworkOptions(vni: VNI(78)), ipv4Pools: [.init(subnet: subnet("10.9.0.0/24"), gateway: nil)]))
            let containers = [(names.tasks[0], "10.9.0.2"), (names.tasks[1], "10.9.0.3"), (names.client, "10.9.0.4")]
            for (index, (container, ip)) in containers.enumerated() {
                let id = ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc"][index]
                let endpoint = try await driver.createEndpoint(EndpointCreation(networkID: "net1", endpointID: id, address: IPv4Interface("\(ip)/24")!))
                let info = try await driver.join(network: "net1", endpoint: endpoint.id)
                try Shell.run(["ip", "-n", names.host, "link", "set", info.interfaceName, "netns", container])
                try Shell.run(["ip", "-n", container, "addr", "add", "\(ip)/24", "dev", info.interfaceName])
                try Shell.run(["ip", "-n", container, "link", "set", info.interfaceName, "up"])
            }
            var servers: [ChildProcess] = []
            for (index, task) in names.tasks.enumerated() {
                let root = "\(site)/\(index)"
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                try "task\(index)\n".write(toFile: "\(root)/index.html", atomically: true, encoding: .utf8)
                servers.append(
                    try ChildProcess.start(
                        label: "httpd \(task)",
                        argv: ["ip", "netns", "exec", task, "busybox", "httpd", "-f", "-p", "80", "-h", root],
                        logFile: URL(fileURLWithPath: "\(site)/httpd-\(index).log")))
            }
            // busybox httpd outlives SIGTERM here.
            defer { for server in servers { server.killBlocking() } }
            for task in names.tasks {
                try await eventually("busybox httpd in \(task) to listen on port 80", within: .seconds(10)) {
                    try await Command.run(["ip", "netns", "exec", task, "ss", "-Hltn", "sport = :80"]).output != ""
                }
            }
            func ask() throws -> String? {
                let outcome = try Shell.outcome(["ip", "netns", "exec", names.client, "curl", "-s", "--max-time", "2", "http://10.9.0.100/"])
                return outcome.succeeded ? outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil
            }

            let records = Records()
            records.set(["10.9.0.2", "10.9.0.3"])
            let server = ServiceVIPServer(
                store: store, namespaceDirectory: directory, backend: backend, source: records, loader: try NftRulesetLoader(), logger: logger)
            await server.pass()
            let answers = try (0..<10).map { _ in try ask() }
            #expect(answers.allSatisfy { $0 != nil }, "\(answers)")
            #expect(Set(answers.compactMap { $0 }) == ["task0", "task1"])

            records.set(["10.9.0.3"])
            await server.pass()
            #expect(try (0..<5).map { _ in try ask() } == Array(repeating: "task1", count: 5))

            records.set(nil)
            await server.pass()
            #expect(try ask() == nil)

            records.set(["10.9.0.2"])
            await server.pass()
            #expect(try ask() == "task0")
            await server.removeAll()
            let networkNamespace = namespaces.network("00004e")
            #expect(try Shell.run(["nsenter", "--net=\(directory)/00004e", "nft", "list", "tables"]).isEmpty)
            #expect(try IPRoute2.addresses(in: networkNamespace, device: "wbr-00004e").flatMap(\.addr_info).filter { !$0.local.contains(":") }.isEmpty)
        }
    }
}
