import Foundation
import Testing
@testable import Netlink
import TestSupport

/// FDB, neighbour, address and error behaviour against the running kernel, with iproute2 as the oracle.
@Suite(.enabled(if: Privileges.canRunKernelTests, "needs root for network namespaces"))
struct KernelTableTests {
    let backend = KernelBackend()
    let vxlan = "wvx-00002a"
    let mac = MACAddress("02:aa:00:00:00:01")!
    let vtep = IPAddress("192.0.2.2")!

    private func makeVXLAN(_ session: NetlinkSession) throws {
        try session.perform([
            .createLink(LinkSpec(name: vxlan, kind: .vxlan(VXLANConfig(vni: VNI(42)!, local: IPAddress("192.0.2.1"))))),
            .setLink(.name(vxlan), LinkChanges(up: true)),
        ])
    }

    @Test func fdbAndNeighbourEntriesMatchIPRoute2() throws {
        try TestNamespaces.with("fdb") { namespaces in
            let name = namespaces[0].ipNetnsName!
            let session = try backend.session(in: namespaces[0])
            try makeVXLAN(session)
            let device = LinkReference.name(vxlan)
            try session.perform([
                .writeFDB(.vtep(mac, via: vtep, on: device), .add),
                .writeFDB(.vtep(.zero, via: IPAddress("192.0.2.3")!, on: device), .append),
                .writeFDB(.vtep(.zero, via: IPAddress("192.0.2.4")!, on: device), .append),
                .writeNeighbour(NeighbourEntry(address: IPAddress("10.1.0.3")!, mac: mac, device: device), .replace),
            ])
            let fdb = try IPRoute2.fdb(in: name, device: vxlan)
            let macText = mac.description
            let remote = try #require(fdb.first { $0.mac == macText })
            #expect(remote.dst == "192.0.2.2")
            #expect(remote.state == "permanent")
            #expect(remote.flags?.contains("self") == true)
            // (A loop rather than filter/compactMap: Swift 6.3's SendNonSendable pass crashes on the chain here.)
            var flood: [String] = []
            for row in fdb where row.mac == "00:00:00:00:00:00" { flood += row.dst.map { [$0] } ?? [] }
            #expect(flood.sorted() == ["192.0.2.3", "192.0.2.4"])

            let neighbours = try IPRoute2.neighbours(in: name, device: vxlan)
            let neighbour = try #require(neighbours.first { $0.dst == "10.1.0.3" })
            #expect(neighbour.lladdr == macText)
            #expect(neighbour.state == ["PERMANENT"])

            // The parser's view of the same tables.
            let parsed = try session.forwardingDatabase(device: device)
            let deviceIndex = try session.index(of: device)
            let expected = FDBEntry.vtep(mac, via: vtep, on: .index(deviceIndex))
            #expect(parsed.contains(expected))
            #expect(parsed.filter { $0.mac == .zero }.count == 2)
            // The kernel adds its own multicast entries (noarp); weft's are the permanent ones.
            let parsedNeighbours = try session.neighbours(device: device).filter { $0.state == .permanent }
            #expect(parsedNeighbours.map { $0.address } == [IPAddress("10.1.0.3")!])
        }
    }

    @Test func replaceSucceedsWhereAddSaysExists() throws {
        try TestNamespaces.with("rep") { namespaces in
            let session = try backend.session(in: namespaces[0])
            try makeVXLAN(session)
            let device = LinkReference.name(vxlan)
            try session.perform(.writeFDB(.vtep(mac, via: vtep, on: device), .add))
            #expect(throws: NetlinkError.alreadyExists(object: "fdb \(mac) dev \(vxlan) dst \(vtep) self", kernelMessage: nil)) {
                try session.perform(.writeFDB(.vtep(mac, via: vtep, on: device), .add))
            }
            // Replace moves the MAC to another VTEP: one entry, the new destination.
            let moved = IPAddress("192.0.2.9")!
            try session.perform(.writeFDB(.vtep(mac, via: moved, on: device), .replace))
            let entries = try session.forwardingDatabase(device: device).filter { $0.mac == mac }
            #expect(entries.map { $0.destination } == [moved])

            let neighbour = NeighbourEntry(address: IPAddress("10.1.0.3")!, mac: mac, device: device)
            try session.perform(.writeNeighbour(neighbour, .replace))
            try session.perform(.writeNeighbour(neighbour, .replace))
            #expect {
                try session.perform(.writeNeighbour(neighbour, .add))
            } throws: { error in
                guard case .alreadyExists(let object, _) = error as? NetlinkError else { return false }
                return object == "neighbour 10.1.0.3 dev \(vxlan)"
            }
        }
    }

    @Test func creatingAnExistingLinkIsATypedExistsErrorNamingIt() throws {
        try TestNamespaces.with("dup") { namespaces in
            let session = try backend.session(in: namespaces[0])
            try makeVXLAN(session)
            let again = NetlinkOperation.createLink(
                LinkSpec(name: vxlan, kind: .vxlan(VXLANConfig(vni: VNI(43)!, local: IPAddress("192.0.2.1")))))
            #expect {
                try session.perform(again)
            } throws: { error in
                guard let error = error as? NetlinkError, case .alreadyExists(let object, _) = error else { return false }
                return object == "vxlan \(vxlan)" && error.description.hasPrefix("vxlan \(vxlan): File exists")
            }
            // The same VNI under another name: the kernel explains itself through the extended ack.
            let sameVNI = NetlinkOperation.createLink(
                LinkSpec(name: "wvx-other", kind: .vxlan(VXLANConfig(vni: VNI(42)!, local: IPAddress("192.0.2.1")))))
            #expect {
                try session.perform(sameVNI)
            } throws: { error in
                guard case .alreadyExists(_, let message)? = error as? NetlinkError else { return false }
                return message?.contains("VNI") == true
            }
        }
    }

    @Test func deletingWhatIsNotThereIsATypedNotFoundError() throws {
        try TestNamespaces.with("gone") { namespaces in
            let session = try backend.session(in: namespaces[0])
            try makeVXLAN(session)
            let device = LinkReference.name(vxlan)
            let outcomes = session.apply([
                .deleteFDB(.vtep(mac, via: vtep, on: device)),
                .deleteNeighbour(NeighbourEntry(address: IPAddress("10.1.0.99")!, mac: nil, device: device)),
                .deleteLink(.name("no-such-link")),
                .deleteLink(.index(9999)),
                .deleteAddress(InterfaceAddress("10.9.9.9/24")!, device: device),
            ])
            #expect(outcomes.count == 5)
            for outcome in outcomes.prefix(2) {
                guard case .failure(.notFound) = outcome else {
                    Issue.record("expected notFound, got \(outcome)")
                    continue
                }
            }
            guard case .failure(.unknownLink(name: "no-such-link", _)) = outcomes[2] else {
                Issue.record("expected unknownLink, got \(outcomes[2])")
                return
            }
            guard case .failure(.notFound(object: "link link #9999", _)) = outcomes[3] else {
                Issue.record("expected notFound for the index, got \(outcomes[3])")
                return
            }
            guard case .failure(.rejected(_, let code, _)) = outcomes[4] else {
                Issue.record("expected a rejection for the missing address, got \(outcomes[4])")
                return
            }
            #expect(code == EADDRNOTAVAIL)
        }
    }

    /// A failure in the middle of a batch fails that operation alone; the rest are applied.
    @Test func batchReportsEachOutcomeAndGoesOn() throws {
        try TestNamespaces.with("batch") { namespaces in
            let session = try backend.session(in: namespaces[0])
            try makeVXLAN(session)
            let device = LinkReference.name(vxlan)
            let outcomes = session.apply([
                .writeFDB(.vtep(mac, via: vtep, on: device), .add),
                .writeFDB(.vtep(mac, via: vtep, on: device), .add),
                .writeNeighbour(NeighbourEntry(address: IPAddress("10.1.0.3")!, mac: mac, device: device), .replace),
            ])
            #expect(outcomes.map { (try? $0.get()) != nil } == [true, false, true])
            #expect(try session.neighbours(device: device).filter { $0.state == .permanent }.count == 1)
        }
    }

    @Test func addressesLinkSettingsAndLearnedEntries() throws {
        try TestNamespaces.with("set") { namespaces in
            let name = namespaces[0].ipNetnsName!
            let session = try backend.session(in: namespaces[0])
            let portMAC = MACAddress("02:bb:00:00:00:01")!
            try session.perform([
                .createLink(LinkSpec(name: "br0", kind: .bridge)),
                .createLink(LinkSpec(name: "ve0", kind: .veth(peer: VethPeer(name: "ve0p")))),
                .setLink("ve0", LinkChanges(up: true, mtu: 1400, mac: portMAC, master: .bridge("br0"))),
                .setLink("br0", LinkChanges(up: true)),
                .addAddress(InterfaceAddress("10.1.0.1/24")!, device: "br0"),
                .writeFDB(FDBEntry(mac: MACAddress("02:cc:00:00:00:01")!, device: "ve0", table: .bridge, state: .noARP), .add),
            ])
            let info = try #require(try IPRoute2.addresses(in: name, device: "br0").first?.addr_info.first)
            #expect(info.local == "10.1.0.1")
            #expect(info.prefixlen == 24)
            let bridgeIndex = try session.index(of: "br0")
            #expect(try session.addresses().contains(AssignedAddress(device: bridgeIndex, address: InterfaceAddress("10.1.0.1/24")!)))
            let port = try #require(try session.link("ve0"))
            #expect(port.mtu == 1400)
            #expect(port.mac == portMAC)
            #expect(port.master == (try session.link("br0"))?.index)

            // The bridge's entry for the port's MAC is deletable as a bridge (NTF_MASTER) entry.
            let learned = FDBEntry(mac: MACAddress("02:cc:00:00:00:01")!, device: "ve0", table: .bridge, state: [])
            try session.perform(.deleteFDB(learned))
            let remaining = try IPRoute2.fdb(in: name, device: "ve0")
            #expect(!remaining.contains { $0.mac == "02:cc:00:00:00:01" })

            try session.perform([
                .setLink("ve0", LinkChanges(up: false, master: LinkChanges.Master.none, name: "ve1")),
                .deleteAddress(InterfaceAddress("10.1.0.1/24")!, device: "br0"),
            ])
            let renamed = try #require(try session.link("ve1"))
            #expect(renamed.master == nil)
            #expect(!renamed.isUp)
            #expect(try session.link("ve0") == nil)
        }
    }

    @Test func vethPeerInAnotherNamespaceAndMoveByDescriptor() throws {
        try TestNamespaces.with("move", count: 2) { namespaces in
            let host = try backend.session(in: namespaces[0])
            let network = try backend.session(in: namespaces[1])
            try host.perform([
                .createLink(
                    LinkSpec(name: "wve-0", kind: .veth(peer: VethPeer(name: "wvp-0", namespaceFD: namespaces[1].fd)))),
                .createLink(LinkSpec(name: vxlan, kind: .vxlan(VXLANConfig(vni: VNI(42)!, local: IPAddress("192.0.2.1"))))),
                .setLink(.name(vxlan), LinkChanges(namespaceFD: namespaces[1].fd)),
            ])
            #expect(try host.link("wve-0")?.kind == "veth")
            #expect(try host.link("wvp-0") == nil)
            #expect(try network.link("wvp-0")?.kind == "veth")
            #expect(try host.link(.name(vxlan)) == nil)
            #expect(try network.link(.name(vxlan))?.vxlan?.vni == VNI(42))
            let names = try IPRoute2.links(in: namespaces[1].ipNetnsName!).map { $0.ifname }
            #expect(Set(names).isSuperset(of: ["wvp-0", vxlan]))
        }
    }

    @Test func namespacesAreCreatedOpenedAndDeletedWithTypedErrors() throws {
        let name = TestNamespaces.uniqueName("ns")
        let reference = NamespaceReference.named(name)
        defer { try? backend.deleteNamespace(reference) }
        let namespace = try backend.createNamespace(reference)
        #expect(backend.namespaceExists(reference))
        #expect(try Shell.run(["ip", "netns", "list"]).contains(name))
        #expect(throws: NetlinkError.alreadyExists(object: "namespace \(name)", kernelMessage: nil)) {
            _ = try backend.createNamespace(reference)
        }
        // A namespace at a path of weft's own, outside /run/netns.
        let directory = "/run/weft-test-\(name)"
        let own = NamespaceReference.path("\(directory)/net")
        defer {
            try? backend.deleteNamespace(own)
            // The directory became a shared mount point, as /run/netns does for `ip netns add`.
            _ = try? Shell.run(["umount", "-l", directory])
            rmdir(directory)
        }
        let ownNamespace = try backend.createNamespace(own)
        let ownSession = try backend.session(in: ownNamespace)
        try ownSession.perform(.createLink(LinkSpec(name: "br-own", kind: .bridge)))
        #expect(try backend.session(in: own).link("br-own") != nil)
        #expect(try backend.session(in: namespace).link("br-own") == nil)

        try backend.deleteNamespace(own)
        try backend.deleteNamespace(reference)
        #expect(!backend.namespaceExists(reference))
        #expect(throws: NetlinkError.notFound(object: "namespace \(name)", kernelMessage: nil)) {
            try backend.deleteNamespace(reference)
        }
        #expect(throws: NetlinkError.notFound(object: "namespace \(name)", kernelMessage: nil)) {
            _ = try backend.openNamespace(reference)
        }
    }
}

/// One session shared by many tasks: requests are serialised on the socket and every acknowledgement reaches
/// the task that sent the request.
@Suite(.enabled(if: Privileges.canRunKernelTests, "needs root for network namespaces"))
struct KernelConcurrencyTests {
    @Test func oneSessionServesManyTasks() async throws {
        let name = TestNamespaces.uniqueName("conc")
        let backend = KernelBackend()
        let namespace = try backend.createNamespace(.named(name))
        defer { try? backend.deleteNamespace(.named(name)) }
        let session = try backend.session(in: namespace)
        try session.perform(.createLink(LinkSpec(name: "wvx-c", kind: .vxlan(VXLANConfig(vni: VNI(7)!)))))
        let tasks = 8
        let perTask = 100
        let failures = await withTaskGroup(of: Int.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    let operations = (0..<perTask).map { entry -> NetlinkOperation in
                        let mac = MACAddress(bytes: [0x02, 0, 0, 0, UInt8(task), UInt8(entry)])!
                        return .writeFDB(.vtep(mac, via: IPAddress.v4(IPv4Address(192, 0, 2, UInt8(1 + task))), on: "wvx-c"), .add)
                    }
                    return session.apply(operations).filter { (try? $0.get()) == nil }.count
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
        let programmed = try session.forwardingDatabase(device: "wvx-c").filter { $0.destination != nil }
        #expect(programmed.count == tasks * perTask)
    }
}
