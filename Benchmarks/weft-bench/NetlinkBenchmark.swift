import Foundation
import Netlink

/// Programs N FDB and N neighbour entries into one VXLAN device in a throwaway namespace, with weft's
/// batched netlink and with iproute2's batch mode (`bridge -batch`, `ip -batch`) on the same entries, in
/// alternating rounds; then dumps both tables and diffs them against the desired set.
struct NetlinkBenchmark {
    let entries: Int
    let rounds = 3
    let device = "wvx-bench"

    struct Remote: Hashable {
        let ip: IPAddress
        let mac: MACAddress
        let vtep: IPAddress
    }

    func run() throws {
        guard geteuid() == 0 else { throw BenchError.needsRoot }
        let backend = KernelBackend()
        let name = "weft-bench-\(getpid())"
        let namespace = try backend.createNamespace(.named(name))
        defer { try? backend.deleteNamespace(.named(name)) }
        let session = try backend.session(in: namespace)

        var generator = SplitMix64(seed: 7)
        let remotes = (0..<entries).map { (i: Int) -> Remote in
            Remote(
                ip: .v4(IPv4Address(10, UInt8(1 + i / 65_536), UInt8((i / 256) % 256), UInt8(i % 256))),
                mac: .randomLocallyAdministered(using: &generator),
                vtep: .v4(IPv4Address(192, 0, 2, UInt8(1 + i % 200))))
        }
        let operations: [NetlinkOperation] = remotes.flatMap { (remote: Remote) -> [NetlinkOperation] in
            [
                .writeFDB(.vtep(remote.mac, via: remote.vtep, on: .name(device)), .replace),
                .writeNeighbour(NeighbourEntry(address: remote.ip, mac: remote.mac, device: .name(device)), .replace),
            ]
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fdbBatch = directory.appendingPathComponent("fdb.batch")
        let neighbourBatch = directory.appendingPathComponent("neigh.batch")
        let fdbLines = remotes.map { (remote: Remote) -> String in
            "fdb replace \(remote.mac) dev \(device) dst \(remote.vtep) self permanent\n"
        }
        let neighbourLines = remotes.map { (remote: Remote) -> String in
            "neigh replace \(remote.ip) lladdr \(remote.mac) dev \(device) nud permanent\n"
        }
        try fdbLines.joined().write(to: fdbBatch, atomically: true, encoding: String.Encoding.utf8)
        try neighbourLines.joined().write(to: neighbourBatch, atomically: true, encoding: String.Encoding.utf8)

        print("netlink: \(entries) FDB + \(entries) neighbour entries into one VXLAN device, \(rounds) rounds each")
        var weftTimes: [Double] = []
        var iproute2Times: [Double] = []
        for round in 1...rounds {
            try freshDevice(session)
            let weft = try time {
                for outcome in session.apply(operations) { try outcome.get() }
            }
            try verify(session, count: entries, after: "weft round \(round)")
            try freshDevice(session)
            let iproute2 = try time {
                try shell(["bridge", "-n", name, "-batch", fdbBatch.path])
                try shell(["ip", "-n", name, "-batch", neighbourBatch.path])
            }
            try verify(session, count: entries, after: "iproute2 round \(round)")
            weftTimes.append(weft)
            iproute2Times.append(iproute2)
            print(String(format: "  round %d: weft %.3f s, iproute2 batch %.3f s", round, weft, iproute2))
        }
        let total = Double(2 * entries)
        let weftRate = total / median(weftTimes)
        let iproute2Rate = total / median(iproute2Times)
        print(String(format: "  weft batched netlink: %.0f entries/s (median)", weftRate))
        print(String(format: "  iproute2 -batch:      %.0f entries/s (median)", iproute2Rate))
        print(String(format: "  ratio weft / iproute2: %.2fx (goal >= 2.0)", weftRate / iproute2Rate))

        // Dump both tables and diff them against the desired set, as a reconciler does.
        let desiredFDB = Set(remotes.map { FDBKey(mac: $0.mac, destination: $0.vtep) })
        var desiredNeighbours: [IPAddress: MACAddress] = [:]
        for remote in remotes { desiredNeighbours[remote.ip] = remote.mac }
        var diffTimes: [Double] = []
        var difference = (missing: 0, extra: 0)
        for _ in 1...rounds {
            diffTimes.append(
                try time {
                    let index = try session.index(of: .name(device))
                    let fdb = try session.forwardingDatabase(device: .index(index))
                    let neighbours = try session.neighbours(device: .index(index))
                    var presentFDB = Set<FDBKey>()
                    for entry in fdb where entry.table == .device {
                        if let destination = entry.destination {
                            presentFDB.insert(FDBKey(mac: entry.mac, destination: destination))
                        }
                    }
                    var presentNeighbours: [IPAddress: MACAddress] = [:]
                    for entry in neighbours where entry.state == .permanent { presentNeighbours[entry.address] = entry.mac }
                    difference.missing =
                        desiredFDB.subtracting(presentFDB).count
                        + desiredNeighbours.filter { presentNeighbours[$0.key] != $0.value }.count
                    difference.extra =
                        presentFDB.subtracting(desiredFDB).count
                        + presentNeighbours.filter { desiredNeighbours[$0.key] != $0.value }.count
                })
        }
        print(
            String(
                format: "  dump + diff of %d entries: %.1f ms (median of %d; goal < 100 ms); differences: %d missing, %d extra",
                2 * entries, median(diffTimes) * 1000, rounds, difference.missing, difference.extra))
    }

    struct FDBKey: Hashable {
        let mac: MACAddress
        let destination: IPAddress
    }

    /// Recreates the VXLAN device, so every round starts from empty tables.
    private func freshDevice(_ session: NetlinkSession) throws {
        if try session.link(.name(device)) != nil { try session.perform(.deleteLink(.name(device))) }
        try session.perform([
            .createLink(LinkSpec(name: device, kind: .vxlan(VXLANConfig(vni: VNI(4242)!, local: IPAddress("192.0.2.254"))))),
            .setLink(.name(device), LinkChanges(up: true)),
        ])
    }

    private func verify(_ session: NetlinkSession, count: Int, after run: String) throws {
        let fdb = try session.forwardingDatabase(device: .name(device)).filter { $0.destination != nil }.count
        let neighbours = try session.neighbours(device: .name(device)).filter { $0.state == .permanent }.count
        guard fdb == count, neighbours == count else {
            throw BenchError.incomplete("\(run) left \(fdb) FDB and \(neighbours) neighbour entries, expected \(count) each")
        }
    }

    private func time(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    private func shell(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError.command(arguments.joined(separator: " ")) }
    }

    enum BenchError: Error, CustomStringConvertible {
        case needsRoot
        case incomplete(String)
        case command(String)

        var description: String {
            switch self {
            case .needsRoot: "the netlink benchmark needs root (it creates a network namespace)"
            case .incomplete(let detail): "benchmark run incomplete: \(detail)"
            case .command(let command): "\(command) failed"
            }
        }
    }
}
