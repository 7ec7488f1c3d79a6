import Foundation
import Netlink
import Overlay
import TestSupport
import Testing

/// The userspace backend against Debian's real `wireguard-go`, in a namespace the test makes and removes, with
/// `wg show … dump` as the oracle.
@Suite(.enabled(if: Privileges.canRunKernelTests, "needs root for network namespaces and /dev/net/tun"))
struct UserspaceWireGuardTests {
    @Test("key, port and peers reach wireguard-go over its UAPI socket; a peer left out is removed")
    func configuresWireGuardGo() throws {
        try TestNamespaces.with("wg") { namespaces in
            let namespace = try #require(namespaces[0].ipNetnsName)
            let interface = "wgt" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
            let inside = ["ip", "netns", "exec", namespace]
            // In the foreground, as this test's own child; deleting its interface ends it, so does the namespace.
            let log = URL(fileURLWithPath: NSTemporaryDirectory() + "weft-wireguard-go-\(interface).log")
            let daemon = try ChildProcess.start(
                label: "wireguard-go", argv: ["ip", "netns", "exec", namespace, "wireguard-go", "-f", interface],
                logFile: log)
            defer {
                _ = try? Shell.outcome(inside + ["ip", "link", "del", interface])
                daemon.terminateBlocking()
                try? FileManager.default.removeItem(at: log)
            }
            let backend = UserspaceWireGuard()
            let socket = backend.socketPath(interface: interface)
            let deadline = ContinuousClock.now + .seconds(10)
            while !FileManager.default.fileExists(atPath: socket), daemon.isRunning, ContinuousClock.now < deadline {
                usleep(20_000)
            }
            try #require(FileManager.default.fileExists(atPath: socket),
                         "wireguard-go made no socket at \(socket): \(daemon.logTail())")
            let keys = WireGuardKeyPair()
            let configuration = WireGuardTests.configuration(keys: keys)
            try backend.apply(configuration, interface: interface)

            let dump = try Shell.run(inside + ["wg", "show", interface, "dump"]).split(separator: "\n").map { $0.split(separator: "\t") }
            #expect(dump[0][1] == keys.publicKey.base64[...] && dump[0][2] == "51820")
            let peers = dump.dropFirst().map { "\($0[0]) \($0[2]) \($0[3])" }.sorted()
            #expect(peers == [
                "\(WireGuardTests.otherKey.base64) 192.0.2.3:51821 100.64.0.3/32",
                "\(WireGuardTests.peerKey.base64) 192.0.2.2:51820 100.64.0.2/32",
            ].sorted())
            let status = try backend.status(interface: interface)
            #expect(status.listenPort == 51820)
            #expect(Set(status.peers.map(\.publicKey)) == [WireGuardTests.peerKey, WireGuardTests.otherKey])
            #expect(status.peers.allSatisfy { !$0.hasHandshaken })

            // Applied whole: the peer no longer listed is gone.
            var fewer = configuration
            fewer.peers.removeAll { $0.publicKey == WireGuardTests.otherKey }
            try backend.apply(fewer, interface: interface)
            #expect(try backend.status(interface: interface).peers.map(\.publicKey) == [WireGuardTests.peerKey])
        }
    }

    @Test("no wireguard-go behind the socket: an error naming the socket, no hang")
    func missingDaemon() throws {
        let backend = UserspaceWireGuard(socketDirectory: "/nonexistent-weft")
        #expect(throws: WireGuardError.socket(path: "/nonexistent-weft/wg0.sock", action: "connect", errno: ENOENT)) {
            _ = try backend.status(interface: "wg0")
        }
    }
}
