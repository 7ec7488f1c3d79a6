import Logging
import Netlink
import Overlay
import Testing

/// The driver programs other hosts' endpoints into a network's VXLAN device: a remote change costs a constant
/// number of kernel operations and no dump, however many endpoints the network has; the repair pass reads the
/// device back and corrects drift.
struct RemoteProgrammingTests {
    static let vni = VNI(42)!
    static let hostB = IPAddress("192.0.2.12")!

    /// Host `a` (the driver under test) and host `b`, whose announcements reach `a` directly; `b` has one
    /// network and `count` endpoints in it, and `a` has programmed them all.
    struct TwoHosts {
        let backend = CountingBackend()
        let a: ClusterState
        let b: ClusterState
        let driver: OverlayDriver

        init(endpoints count: Int) async throws {
            let cluster = SimulatedCluster()
            a = await cluster.add(SimulatedHost("a", vtep: "192.0.2.1"))
            b = await cluster.add(SimulatedHost("b", vtep: "\(RemoteProgrammingTests.hostB)"))
            driver = OverlayDriver(
                host: DriverHarness.host, backend: backend, store: StateStore(inMemory: PersistentState()),
                logger: Logger(label: "test"), cluster: a)
            await a.markSynchronized()
            try await driver.createNetwork(
                DriverHarness.network(subnet: "10.1.0.0/20", options: [NetworkPolicy.vniOption: "\(RemoteProgrammingTests.vni)"]))
            await b.announce(NetworkAnnouncement(vni: RemoteProgrammingTests.vni, subnet: subnet("10.1.0.0/20"), host: "b", vtep: RemoteProgrammingTests.hostB))
            for index in 0..<count { await b.announce(Self.endpoint(index)) }
            await driver.reconcileAllRemote()
            #expect(try fdb().count == count + 1)
            _ = backend.take()
        }

        /// Endpoint `index` of host b: 10.1.x.y, a MAC of its own.
        static func endpoint(_ index: Int) -> EndpointAnnouncement {
            let low = UInt8(index & 0xff)
            let high = UInt8(index >> 8)
            return EndpointAnnouncement(
                vni: RemoteProgrammingTests.vni, endpointID: "e\(index)", address: IPv4Address(0x0A01_0100 + UInt32(index)),
                mac: MACAddress(bytes: [0x02, 0, 0, 0, high, low])!, host: "b", vtep: RemoteProgrammingTests.hostB)
        }

        func session() throws -> NetlinkSession {
            try backend.inner.session(in: KernelLayout(vni: RemoteProgrammingTests.vni, namespaceDirectory: DriverHarness.host.namespaceDirectory).namespace)
        }

        func device() throws -> LinkReference {
            .index(try session().index(of: .name(KernelLayout(vni: RemoteProgrammingTests.vni, namespaceDirectory: "").vxlanName)))
        }

        /// The device's permanent FDB entries toward other hosts (read on the inner backend: not counted).
        func fdb() throws -> [FDBEntry] {
            try session().forwardingDatabase(device: try device()).filter { $0.table == .device && $0.destination != nil }
        }

        func neighbours() throws -> [NeighbourEntry] {
            try session().neighbours(device: try device()).filter { $0.state.contains(.permanent) }
        }
    }

    @Test("one remote endpoint that comes and goes costs the same operations with 10 or 1,000 others, and no dump",
          arguments: [10, 1000])
    func oneChangeCostsAConstantNumberOfOperations(endpoints: Int) async throws {
        let hosts = try await TwoHosts(endpoints: endpoints)
        let added = TwoHosts.endpoint(endpoints)
        await hosts.b.announce(added)
        await hosts.driver.remoteChanged([Self.vni])
        let adding = hosts.backend.take()
        #expect(adding.operations == 2, "an FDB and a neighbour entry")
        #expect(adding.dumps == 0)
        #expect(adding.reads <= 2, "the VXLAN device's index, the bridge's for the gratuitous ARP")
        #expect(try hosts.fdb().contains { $0.mac == added.mac })
        #expect(try hosts.neighbours().contains { $0.mac == added.mac })

        await hosts.b.withdraw(endpoint: added.key)
        await hosts.driver.remoteChanged([Self.vni])
        let removing = hosts.backend.take()
        #expect(removing.operations == 2)
        #expect(removing.dumps == 0)
        #expect(try hosts.fdb().count == endpoints + 1)
        #expect(try !hosts.neighbours().contains { $0.mac == added.mac })
    }

    @Test("the repair pass reads the device back and restores an entry removed behind weft's back")
    func repairPassCorrectsDrift() async throws {
        let hosts = try await TwoHosts(endpoints: 20)
        let victim = TwoHosts.endpoint(7)
        try hosts.session().perform(.deleteFDB(.vtep(victim.mac, via: Self.hostB, on: try hosts.device())))
        _ = hosts.backend.take()
        // A change elsewhere in the network does not see the drift (it reads nothing back) …
        await hosts.b.announce(TwoHosts.endpoint(20))
        await hosts.driver.remoteChanged([Self.vni])
        #expect(hosts.backend.take().dumps == 0)
        #expect(try !hosts.fdb().contains { $0.mac == victim.mac })
        // … the periodic pass does.
        await hosts.driver.reconcileAllRemote()
        let repair = hosts.backend.take()
        #expect(repair.dumps > 0, "the FDB and the neighbour tables are read back")
        #expect(repair.operations == 1)
        #expect(try hosts.fdb().contains { $0.mac == victim.mac && $0.destination == Self.hostB })
    }

    @Test("a host that leaves the network takes its flooding entry and every entry of its endpoints")
    func aHostLeavingRemovesItsEntries() async throws {
        let hosts = try await TwoHosts(endpoints: 5)
        await hosts.b.withdraw(network: Self.vni)
        await hosts.driver.remoteChanged([Self.vni])
        #expect(hosts.backend.take() == CountingBackend.Counts(operations: 11, dumps: 0, reads: 1))
        #expect(try hosts.fdb().isEmpty)
        #expect(try hosts.neighbours().isEmpty)
    }
}
