import CMnl
import Glibc

/// Whether this kernel has WireGuard: the generic-netlink family `wireguard` resolved with `CTRL_CMD_GETFAMILY`
/// (``WireGuardMessages/resolveFamily()``) over a real socket. Asking also lets the kernel load the module when
/// it has one. The answer names the cause when there is none.
public enum WireGuardFamily {
    public enum Resolution: Sendable, Equatable, CustomStringConvertible {
        /// The family's id: the message type of every WireGuard request.
        case resolved(id: UInt16)
        case unavailable(reason: String)

        public var description: String {
            switch self {
            case .resolved(let id): "generic netlink family \"wireguard\" (id \(id))"
            case .unavailable(let reason): reason
            }
        }
    }

    /// Resolves the family from `namespace` (nil: the process's own).
    public static func resolve(namespace: NetworkNamespace? = nil) -> Resolution {
        let transport: KernelTransport
        do { transport = try KernelTransport(namespace: namespace, netlinkProtocol: NETLINK_GENERIC) } catch {
            return .unavailable(reason: "cannot open a generic netlink socket: \(error)")
        }
        do {
            let reply = try transport.query(WireGuardMessages.resolveFamily(), object: "generic netlink family \"wireguard\"")
            return try .resolved(id: familyID(in: reply))
        } catch {
            if error.errno == ENOENT {
                return .unavailable(reason: "the generic netlink family \"wireguard\" does not resolve (ENOENT): this kernel has no WireGuard module (modprobe wireguard)")
            }
            return .unavailable(reason: "resolving the generic netlink family \"wireguard\" failed: \(error)")
        }
    }

    /// `CTRL_ATTR_FAMILY_ID` of a `CTRL_CMD_NEWFAMILY` reply.
    static func familyID(in reply: [UInt8]) throws(NetlinkError) -> UInt16 {
        guard let message = try MessageView.split(reply[...]).first else { throw .malformedMessage("no reply to CTRL_CMD_GETFAMILY") }
        let attributes = try message.attributes(after: MemoryLayout<genlmsghdr>.size)
        guard let id = attributes.u16(Int(CTRL_ATTR_FAMILY_ID)), id != 0 else {
            throw .malformedMessage("the CTRL_CMD_GETFAMILY reply has no family id")
        }
        return id
    }
}
