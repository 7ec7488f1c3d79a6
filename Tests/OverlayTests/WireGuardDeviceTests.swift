import Foundation
import Netlink
import Overlay
import TestSupport
import Testing

/// weft's WireGuard interface with Debian's real `wireguard-go`, in a namespace the test makes and removes:
/// started, adopted by a second weft, replaced when stale, removed on tear-down.
@Suite(.enabled(if: Privileges.canRunKernelTests, "needs root for network namespaces and /dev/net/tun"))
struct WireGuardDeviceTests {
    @Test("brought up with its tunnel address, MTU and key; adopted when alive, replaced when stale; removed on tear-down")
    func lifecycle() throws {
        try TestNamespaces.with("wgdev") { namespaces in
            let namespace = try #require(namespaces[0].ipNetnsName)
            let inside = ["ip", "netns", "exec", namespace]
            let name = "wgd" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
            let session = try KernelBackend().session(in: namespaces[0])
            func device() -> UserspaceWireGuardDevice {
                UserspaceWireGuardDevice(name: name, command: ["/usr/sbin/ip"] + inside.dropFirst() + ["wireguard-go"],
                                         ipCommand: ["/usr/sbin/ip", "-n", namespace], launch: { try ProcessLauncher.start($0) })
            }
            let first = device()
            defer { first.tearDown(session: session) }
            let keys = WireGuardKeyPair()
            let configuration = WireGuardTests.configuration(keys: keys)
            let tunnel = TunnelAddressing.address(for: IPAddress("192.0.2.7")!)

            #expect(try first.bringUp(configuration, tunnel: tunnel, mtu: 1390, session: session) == .started)
            let shown = try Shell.run(inside + ["ip", "-o", "address", "show", "dev", name])
            #expect(shown.contains("inet 100.64.2.7/10"))
            let link = try Shell.run(inside + ["ip", "-o", "link", "show", "dev", name])
            #expect(link.contains("mtu 1390") && link.contains(",UP"))
            let dump = try Shell.run(inside + ["wg", "show", name, "dump"]).split(separator: "\n")
            #expect(dump.first?.split(separator: "\t")[1] == keys.publicKey.base64[...])
            #expect(dump.count == 3)

            // A second weft (after a kill -9) adopts the live device: its peers stay until updated in place.
            let second = device()
            #expect(try second.bringUp(configuration, tunnel: tunnel, mtu: 1390, session: session) == .adopted)
            #expect(try first.status().peers.count == 2)
            try second.update(peers: [configuration.peers[0]], keepaliveSeconds: 25)
            #expect(try first.status().peers.map(\.publicKey) == [configuration.peers[0].publicKey])

            // Fail closed: with the interface gone (wireguard-go died, weft was killed), tunnel addresses hit
            // the blackhole even where a default route exists.
            try Shell.run(inside + ["ip", "link", "set", "lo", "up"])
            try Shell.run(inside + ["ip", "route", "add", "default", "dev", "lo"])
            #expect(try Shell.run(inside + ["ip", "route", "get", "100.64.2.8"]).contains("dev \(name)"))
            try Shell.run(inside + ["ip", "link", "del", name])
            let route = try Shell.outcome(inside + ["ip", "route", "get", "100.64.2.8"])
            #expect("\(route)".contains("blackhole") || "\(route)".contains("Invalid argument"), "\(route)")

            first.tearDown(session: session)
            #expect(try session.link(.name(name)) == nil)
            #expect(!(try Shell.run(inside + ["ip", "route", "show"])).contains("blackhole"))

            // A link of that name with no wireguard-go behind it is replaced.
            try Shell.run(inside + ["ip", "link", "add", name, "type", "bridge"])
            let third = device()
            defer { third.tearDown(session: session) }
            #expect(try third.bringUp(configuration, tunnel: tunnel, mtu: 1390, session: session) == .replaced)
            #expect(try third.status().peers.count == 2)
            third.tearDown(session: session)
            #expect(try session.link(.name(name)) == nil)
        }
    }
}
