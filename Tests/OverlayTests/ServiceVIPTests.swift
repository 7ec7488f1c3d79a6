import Logging
import Netlink
import Overlay
import Synchronization
import Testing

/// Docker's `GET /networks/<id>?verbose=true`, cut to what weft reads, shaped as Docker 20.10 answers it.
private func inspect(id: String = "net1", services: [(name: String, vip: String, tasks: [String])]) -> [UInt8] {
    let entries = services.map { service in
        let tasks = service.tasks.enumerated().map { index, ip in
            #"{"Name":"\#(service.name).\#(index + 1).x","EndpointID":"e\#(index)","EndpointIP":"\#(ip)","Info":{"Host IP":"192.0.2.1"}}"#
        }.joined(separator: ",")
        return #""\#(service.name)":{"VIP":"\#(service.vip)","Ports":[],"LocalLBIndex":0,"Tasks":[\#(tasks)]}"#
    }.joined(separator: ",")
    return Array(#"{"Name":"net","Id":"\#(id)","Scope":"swarm","Driver":"weft:latest","Services":{\#(entries)}}"#.utf8)
}

struct ServiceRecordsTests {
    let net = subnet("10.30.0.0/24")

    @Test("services with their VIP and tasks; dnsrr services (no VIP) and addresses outside the subnet are left out")
    func parsesDockersServiceRecords() throws {
        var truncated = false
        let services = try ServiceRecords.parse(
            inspect(services: [
                ("web", "10.30.0.2", ["10.30.0.5", "10.30.0.3", "10.30.0.4", "10.30.0.3"]),
                ("rr", "", ["10.30.0.9"]),
                ("elsewhere", "10.99.0.2", ["10.99.0.3"]),
                ("client", "10.30.0.6", ["10.30.0.7", "172.17.0.2"]),
            ]), network: "net1", subnet: net, truncated: &truncated)
        #expect(services == [
            ServiceVIP(name: "client", vip: address("10.30.0.6"), backends: [address("10.30.0.7")]),
            ServiceVIP(name: "web", vip: address("10.30.0.2"), backends: [address("10.30.0.3"), address("10.30.0.4"), address("10.30.0.5")]),
        ])
        #expect(!truncated)
        // No Services at all (not swarm, or no service yet): nothing.
        #expect(try ServiceRecords.parse(Array(#"{"Id":"net1","Services":null}"#.utf8), network: "net1", subnet: net, truncated: &truncated) == [])
    }

    @Test("an answer about another network, one that is not JSON, and one over the size limit are refused naming the network")
    func refusesWhatItCannotTrust() throws {
        var truncated = false
        #expect(throws: ServiceRecords.ParseError.self) {
            try ServiceRecords.parse(inspect(id: "other", services: []), network: "net1", subnet: net, truncated: &truncated)
        }
        do {
            _ = try ServiceRecords.parse(Array("<html>".utf8), network: "net1", subnet: net, truncated: &truncated)
            Issue.record("no error")
        } catch {
            #expect("\(error)".contains("net1"))
        }
        let huge = [UInt8](repeating: 32, count: ServiceRecords.maximumBodySize + 1)
        #expect(throws: ServiceRecords.ParseError.tooLarge(network: "net1", bytes: huge.count)) {
            try ServiceRecords.parse(huge, network: "net1", subnet: net, truncated: &truncated)
        }
    }

    @Test("more tasks than the limit: the first ones are kept and the answer is marked truncated")
    func boundsTasks() throws {
        let wide = subnet("10.0.0.0/16")
        let tasks = (0..<(ServiceRecords.maximumTasks + 10)).map { "10.0.\($0 / 250 + 1).\($0 % 250 + 1)" }
        var truncated = false
        let services = try ServiceRecords.parse(inspect(services: [("big", "10.0.0.254", tasks)]), network: "net1", subnet: wide, truncated: &truncated)
        #expect(truncated)
        #expect(services.first?.backends.count == ServiceRecords.maximumTasks)
    }
}

struct VIPRulesetTests {
    @Test("a service's VIP is rewritten to its tasks in turn; a VIP without tasks and any other packet to a VIP are refused")
    func script() {
        let ruleset = VIPRuleset(services: [
            ServiceVIP(name: "web", vip: address("10.30.0.2"), backends: [address("10.30.0.5"), address("10.30.0.3"), address("10.30.0.4")]),
            ServiceVIP(name: "idle", vip: address("10.30.0.8"), backends: []),
        ])
        #expect(ruleset.script == """
            table ip weft_vip
            delete table ip weft_vip
            table ip weft_vip {
            \tchain prerouting {
            \t\ttype nat hook prerouting priority dstnat; policy accept;
            \t\tip daddr 10.30.0.2 dnat to numgen inc mod 3 map { 0 : 10.30.0.3, 1 : 10.30.0.4, 2 : 10.30.0.5 }
            \t}
            \tchain input {
            \t\ttype filter hook input priority filter; policy accept;
            \t\tip daddr { 10.30.0.2, 10.30.0.8 } meta l4proto tcp reject with tcp reset
            \t\tip daddr { 10.30.0.2, 10.30.0.8 } reject
            \t}
            }

            """)
        #expect(ruleset.bridgeAddresses(subnet: subnet("10.30.0.0/24")) == [InterfaceAddress("10.30.0.2/24")!, InterfaceAddress("10.30.0.8/24")!])
        #expect(VIPRuleset.removal == "table ip weft_vip\ndelete table ip weft_vip\n")
    }
}

/// Hands out whatever the test set, per network.
private final class FakeDocker: ServiceRecordSource {
    let answers = Mutex<[String: [UInt8]]>([:])
    func networkDescription(_ id: String) async throws -> [UInt8] {
        guard let answer = answers.withLock({ $0[id] }) else { throw ServiceRecords.ParseError.malformed(network: id, reason: "no such network") }
        return answer
    }
}

private final class RecordingLoader: RulesetLoader {
    let loaded = Mutex<[String]>([])
    func load(_ script: String, into namespace: NetworkNamespace) throws { loaded.withLock { $0.append(script) } }
}

struct ServiceVIPServerTests {
    @Test("VIPs follow Docker's records: rules before addresses, a scaled service gets a new rule, a removed one loses its address, and shutdown removes everything")
    func followsTheRecords() async throws {
        let printed = Mutex<[String]>([])
        let backend = DryRunBackend(seedFromCurrentNamespace: false) { line in printed.withLock { $0.append(line) } }
        let record = NetworkRecord(id: "net1", vni: VNI(4097)!, subnet: subnet("10.30.0.0/24"), gateway: address("10.30.0.1"), mtu: 1450, isInternal: false)
        let store = StateStore(inMemory: PersistentState())
        try store.update { $0.networks["net1"] = record }
        let layout = KernelLayout(vni: record.vni, namespaceDirectory: "/run/weft-test/netns")
        let namespace = try backend.createNamespace(layout.namespace)
        try backend.session(in: namespace).perform(.createLink(LinkSpec(name: layout.bridgeName, kind: .bridge, mtu: 1450)))

        let docker = FakeDocker()
        let loader = RecordingLoader()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = ServiceVIPServer(
            store: store, namespaceDirectory: "/run/weft-test/netns", backend: backend, source: docker, loader: loader, logger: logger)
        func bridgeAddresses() throws -> Set<String> {
            let session = try backend.session(in: namespace)
            let bridge = try session.index(of: .name(layout.bridgeName))
            return Set(try session.addresses().filter { $0.device == bridge }.map(\.address.description))
        }

        // Nothing yet: nothing loaded, nothing printed.
        docker.answers.withLock { $0["net1"] = inspect(services: []) }
        printed.withLock { $0.removeAll() }
        await server.pass()
        #expect(loader.loaded.withLock { $0 }.isEmpty)
        #expect(printed.withLock { $0 }.isEmpty)

        docker.answers.withLock { $0["net1"] = inspect(services: [("web", "10.30.0.2", ["10.30.0.3", "10.30.0.4", "10.30.0.5"])]) }
        await server.pass()
        #expect(loader.loaded.withLock { $0.last }?.contains("ip daddr 10.30.0.2 dnat to numgen inc mod 3") == true)
        #expect(try bridgeAddresses() == ["10.30.0.2/24"])
        #expect(printed.withLock { $0 }.contains { $0.hasSuffix("sysctl -qw net.ipv4.conf.\(layout.bridgeName).forwarding=1") },
                "\(printed.withLock { $0 })")
        // The same records again: nothing is redone.
        let loads = loader.loaded.withLock { $0.count }
        await server.pass()
        #expect(loader.loaded.withLock { $0.count } == loads)

        // Scaled to one: a new rule, the address stays.
        docker.answers.withLock { $0["net1"] = inspect(services: [("web", "10.30.0.2", ["10.30.0.4"])]) }
        await server.pass()
        #expect(loader.loaded.withLock { $0.last }?.contains("ip daddr 10.30.0.2 dnat to numgen inc mod 1 map { 0 : 10.30.0.4 }") == true)
        #expect(await server.services(on: "net1").map(\.backends) == [[address("10.30.0.4")]])

        // Docker cannot be asked: the VIPs stay as they are.
        docker.answers.withLock { $0["net1"] = nil }
        await server.pass()
        #expect(try bridgeAddresses() == ["10.30.0.2/24"])

        // Removed: the address goes, then the table.
        docker.answers.withLock { $0["net1"] = inspect(services: [("other", "10.30.0.9", ["10.30.0.10"])]) }
        await server.pass()
        #expect(try bridgeAddresses() == ["10.30.0.9/24"])
        #expect(loader.loaded.withLock { $0.last }?.contains("10.30.0.2") == false)

        await server.removeAll()
        #expect(try bridgeAddresses() == [])
        #expect(loader.loaded.withLock { $0.last } == VIPRuleset.removal)
    }
}
