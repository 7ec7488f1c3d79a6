import Foundation
import Netlink

/// What weft does to its WireGuard interface once a backend runs it, whichever backend: the tunnel address (stale
/// ones removed), the MTU, up, and the fail-closed route for the tunnel addresses; and that route's removal.
struct WireGuardLinkSetup: Sendable {
    let name: String
    /// iproute2's `ip`, with any prefix that places it (`ip -n …` in tests): the fail-closed route.
    let ipCommand: [String]
    let launch: @Sendable (Process) throws -> Void

    /// Gives the device its configuration and finishes the link. An adopted device (weft restarted, kill -9) gets
    /// the key, and the port if it changed, only: its peers keep their sessions, and the driver updates them next.
    func configure(
        _ configuration: WireGuardConfiguration, adopted: WireGuardStatus?, backend: some LiveWireGuardBackend,
        tunnel: IPv4Address, mtu: UInt32, session: NetlinkSession
    ) throws(WireGuardDeviceError) {
        do {
            if let adopted {
                let port = adopted.listenPort == configuration.listenPort ? nil : configuration.listenPort
                try backend.setIdentity(keys: configuration.keys, listenPort: port, interface: name)
            } else {
                try backend.apply(configuration, interface: name)
            }
        } catch { throw .configure(interface: name, error) }
        try finish(tunnel: tunnel, mtu: mtu, session: session)
    }

    func finish(tunnel: IPv4Address, mtu: UInt32, session: NetlinkSession) throws(WireGuardDeviceError) {
        guard let address = IPInterface("\(tunnel)/\(TunnelAddressing.prefixLength)") else {
            throw .netlink(interface: name, .invalidOperation(object: "address \(tunnel)", reason: "not a tunnel address"))
        }
        let present: [AssignedAddress]
        do { present = try session.addresses() } catch { throw .netlink(interface: name, error) }
        let index = try? session.index(of: .name(name))
        var operations: [NetlinkOperation] = []
        for stale in present where stale.device == index && stale.address != address {
            operations.append(.deleteAddress(stale.address, device: .name(name)))
        }
        if !present.contains(where: { $0.device == index && $0.address == address }) {
            operations.append(.addAddress(address, device: .name(name)))
        }
        operations.append(.setLink(.name(name), LinkChanges(up: true, mtu: mtu)))
        do { try session.perform(operations) } catch { throw .netlink(interface: name, error) }
        try runIP(["route", "replace"] + UserspaceWireGuardDevice.failClosedRoute)
    }

    func removeRoute() {
        try? runIP(["route", "del"] + UserspaceWireGuardDevice.failClosedRoute)
    }

    private func runIP(_ arguments: [String]) throws(WireGuardDeviceError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ipCommand[0])
        process.arguments = Array(ipCommand.dropFirst()) + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try launch(process) } catch { throw .route(reason: "\(ipCommand[0]): \(error)") }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw .route(reason: "ip \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
    }
}
