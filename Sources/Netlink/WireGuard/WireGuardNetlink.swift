import CMnl

/// The kernel WireGuard's requests sent over a generic-netlink transport (a ``KernelTransport`` opened with
/// `NETLINK_GENERIC`): every `WG_CMD_SET_DEVICE` message acknowledged and matched by sequence, the first refusal
/// thrown naming the command and carrying the kernel's errno and extended-ack text; `WG_CMD_GET_DEVICE` read as a
/// bounded dump.
public struct WireGuardNetlink: Sendable {
    /// The `wireguard` family's id (``WireGuardFamily``): the message type of every request.
    public let family: UInt16
    public let transport: any NetlinkTransport

    public init(family: UInt16, transport: any NetlinkTransport) {
        self.family = family
        self.transport = transport
    }

    /// Opens a generic-netlink socket in `namespace` (nil: the process's own) for a resolved family.
    public static func open(family: UInt16, namespace: NetworkNamespace? = nil) throws(NetlinkError) -> WireGuardNetlink {
        WireGuardNetlink(family: family, transport: try KernelTransport(namespace: namespace, netlinkProtocol: NETLINK_GENERIC))
    }

    /// Sends `messages` (set-device requests) in order; throws the first one the kernel refused.
    public func perform(_ messages: [[UInt8]], command: String) throws(NetlinkError) {
        for ack in try transport.execute(messages) where ack.errno != 0 {
            throw .fromAcknowledgement(errno: ack.errno, object: command, kernelMessage: ack.kernelMessage)
        }
    }

    /// The device `interface` as its dump reports it.
    public func device(interface: String, limits: WireGuardDeviceDump.Limits) throws(NetlinkError) -> WireGuardDeviceDump {
        let request = try WireGuardMessages.getDevice(interface: interface, family: family)
        let reply = try transport.query(request, object: "WG_CMD_GET_DEVICE \(interface)", maximumBytes: limits.maximumBytes)
        return try WireGuardDeviceDump.parse(reply, family: family, interface: interface, limits: limits)
    }
}
