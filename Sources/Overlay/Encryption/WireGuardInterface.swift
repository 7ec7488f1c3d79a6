import Netlink

/// weft's WireGuard interface as the driver uses it, whoever runs it: wireguard-go (``UserspaceWireGuardDevice``),
/// the kernel (``KernelWireGuardDevice``), or the dry run, which prints what it would do (``DryRunWireGuardDevice``).
public protocol WireGuardInterface: Sendable {
    var name: String { get }
    /// Makes the interface exist with `configuration`, `tunnel` as its address in 100.64.0.0/10, `mtu`, and up.
    @discardableResult
    func bringUp(_ configuration: WireGuardConfiguration, tunnel: IPv4Address, mtu: UInt32,
                 session: NetlinkSession) throws(WireGuardDeviceError) -> UserspaceWireGuardDevice.Origin
    /// The device's peers as it reports them (handshakes included).
    func status() throws(WireGuardError) -> WireGuardStatus
    /// Brings the running device's peers to `peers`, keeping the sessions of those already there.
    func update(peers: [WireGuardPeer], keepaliveSeconds: UInt16) throws(WireGuardError)
    /// Sets a new private key, keeping the port and the peers (a key rotation).
    func setIdentity(_ keys: WireGuardKeyPair) throws(WireGuardError)
    /// Removes the interface and the fail-closed route.
    func tearDown(session: NetlinkSession)
}

extension UserspaceWireGuardDevice: WireGuardInterface {}
