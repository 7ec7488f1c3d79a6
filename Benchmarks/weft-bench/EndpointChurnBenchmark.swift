import Foundation
import Gossip
import Logging
import Netlink
import Overlay

/// The cost of one endpoint change as the network grows: with 10, 100 and 1,000 endpoints already in the network
/// (as many on this host as on another), the time of one CreateEndpoint + DeleteEndpoint here, and of one remote
/// endpoint change applied to this host's kernel (the other host's announcement merged, then the VXLAN device
/// reprogrammed), and of one address taken and given back through the IPAM driver's allocator (RequestAddress +
/// ReleaseAddress, saved to the same state, whose pool holds N addresses). Run on the dry-run backend and, as
/// root, on the kernel in throwaway namespaces. The state is saved to disk, as a real install's is. Goal: the
/// 1,000/10 ratio of each ≤ 2.
struct EndpointChurnBenchmark {
    let sizes: [Int]
    let rounds: Int

    struct Row {
        var backend: String
        var size: Int
        var create: Double
        var delete: Double
        var remote: Double
        var address: Double
    }

    func run() async throws {
        var rows: [Row] = []
        // The dry run twice: with the state on disk (as installed) and in memory, to show the state write's share.
        var backends = ["dry-run", "dry-run, state in memory"]
        if getuid() == 0 { backends.append("kernel") } else { print("endpoint churn: not root, the kernel rows are skipped") }
        for backend in backends {
            for size in sizes { rows.append(try await measure(backend: backend, size: size)) }
        }
        print("endpoint churn (median of \(rounds) rounds; N endpoints on this host and N on another):")
        print("  backend                     endpoints   create ms   delete ms   remote change ms   address ms")
        for row in rows {
            let name = row.backend.padding(toLength: 26, withPad: " ", startingAt: 0)
            print("  " + name + String(format: " %10d %11.3f %11.3f %18.3f %12.3f", row.size, row.create, row.delete, row.remote, row.address))
        }
        for backend in backends {
            let mine = rows.filter { $0.backend == backend }
            guard let small = mine.first, let large = mine.last, small.size != large.size else { continue }
            func ratio(_ value: KeyPath<Row, Double>) -> String { String(format: "%.2f", large[keyPath: value] / small[keyPath: value]) }
            print("  \(backend): \(large.size)/\(small.size) ratio create \(ratio(\.create)), delete \(ratio(\.delete)), remote change \(ratio(\.remote)), address \(ratio(\.address)) (goal ≤ 2)")
        }
    }

    private func measure(backend kind: String, size: Int) async throws -> Row {
        let tag = "weft-bench-churn-\(getpid())"
        let directory = "/run/\(tag)"
        let hostNamespace = "\(tag)-h"
        let backend: any NetlinkBackend = kind == "kernel" ? KernelBackend() : DryRunBackend(seedFromCurrentNamespace: false) { _ in }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer {
            if kind == "kernel" {
                for file in (try? FileManager.default.contentsOfDirectory(atPath: directory + "/netns")) ?? [] {
                    try? backend.deleteNamespace(.path("\(directory)/netns/\(file)"))
                }
                try? backend.deleteNamespace(.named(hostNamespace))
                umount2(directory + "/netns", Int32(MNT_DETACH))
            }
            try? FileManager.default.removeItem(atPath: directory)
        }
        let host: NamespaceReference
        if kind == "kernel" {
            _ = try backend.createNamespace(.named(hostNamespace))
            host = .named(hostNamespace)
        } else {
            host = .current
        }
        let quiet = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let settings = HostSettings(advertiseAddress: IPAddress("192.0.2.1")!, underlayMTU: 1500, namespaceDirectory: directory + "/netns")
        // Two hosts that know each other as gossip members (records are signed, and taken only from members).
        let identities = (here: NodeIdentity(), other: NodeIdentity())
        let here = ClusterState(node: "a", identity: identities.here, logger: quiet)
        let other = ClusterState(node: "b", identity: identities.other, logger: quiet)
        func member(_ name: String, _ address: IPAddress, _ identity: NodeIdentity) -> Member {
            let tags = ["role": "weft", "vtep": address.description].merging(identity.tags) { $1 }
            return Member(name: name, address: GossipAddress(ip: address, port: 7946), meta: SerfTags.encode(tags),
                          incarnation: 1, state: .alive, versions: [])
        }
        await here.apply(.join(member("b", IPAddress("192.0.2.2")!, identities.other)))
        await other.apply(.join(member("a", IPAddress("192.0.2.1")!, identities.here)))
        await other.attach { payload, _ in _ = await here.notifyMessage(payload) }
        await here.markSynchronized()
        let store = kind.hasSuffix("in memory") ? StateStore(inMemory: PersistentState()) : try StateStore(directory: directory + "/state")
        let driver = OverlayDriver(host: settings, backend: backend, store: store, logger: quiet, hostNamespace: host, cluster: here)
        let allocator = LocalAddressAllocator(store: store)
        try await driver.start()
        let vni = VNI(4242)!
        let subnet = try IPv4Subnet(parsing: "10.64.0.0/15")
        let pool = try await allocator.requestPool(PoolRequest(subnet: subnet)).id
        let network = String(repeating: "c", count: 64)
        try await driver.createNetwork(
            NetworkCreation(id: network, options: NetworkOptions(vni: vni), ipv4Pools: [.init(subnet: subnet, gateway: nil)]))
        await other.announce(NetworkAnnouncement(vni: vni, subnet: subnet, host: "b", vtep: IPAddress("192.0.2.2")!))

        func local(_ index: Int) -> EndpointCreation {
            // weft names an endpoint's links after the first 11 characters of its ID: those differ.
            EndpointCreation(networkID: network, endpointID: String(format: "%08x", index + 1) + String(repeating: "e", count: 56),
                             address: IPv4Interface(address: IPv4Address(0x0A40_0002 + UInt32(index)), prefixLength: 15)!)
        }
        func remote(_ index: Int) -> EndpointAnnouncement {
            EndpointAnnouncement(
                vni: vni, endpointID: String(format: "r%063x", index + 1), address: IPv4Address(0x0A41_0002 + UInt32(index)),
                mac: MACAddress(bytes: [0x02, 0xbb, 0, UInt8(index >> 16 & 0xff), UInt8(index >> 8 & 0xff), UInt8(index & 0xff)])!,
                host: "b", vtep: IPAddress("192.0.2.2")!)
        }
        for index in 0..<size {
            _ = try await driver.createEndpoint(local(index))
            _ = try await allocator.requestAddress(in: pool, address: nil, role: .endpoint)
            await other.announce(remote(index))
        }
        await driver.reconcileAllRemote()

        let clock = ContinuousClock()
        var creates: [Double] = []
        var deletes: [Double] = []
        var remotes: [Double] = []
        var addresses: [Double] = []
        for round in 0..<rounds {
            let request = local(size + round)
            var start = clock.now
            let taken = try await allocator.requestAddress(in: pool, address: nil, role: .endpoint)
            try await allocator.releaseAddress(taken.address, in: pool)
            addresses.append(milliseconds(clock.now - start))
            start = clock.now
            _ = try await driver.createEndpoint(request)
            creates.append(milliseconds(clock.now - start))
            start = clock.now
            try await driver.deleteEndpoint(network: network, endpoint: request.endpointID)
            deletes.append(milliseconds(clock.now - start))

            let added = remote(size + round)
            start = clock.now
            await other.announce(added)
            await driver.remoteChanged([vni])
            remotes.append(milliseconds(clock.now - start))
            start = clock.now
            await other.withdraw(endpoint: added.key)
            await driver.remoteChanged([vni])
            remotes.append(milliseconds(clock.now - start))
        }
        try await driver.deleteNetwork(id: network)
        try await allocator.releasePool(pool)
        return Row(backend: kind, size: size, create: median(creates), delete: median(deletes), remote: median(remotes), address: median(addresses))
    }

    private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    private func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
