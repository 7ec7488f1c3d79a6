/// Where encoded rtnetlink messages go: a kernel socket bound to one namespace, or the dry-run printer.
///
/// Both implementations receive the same bytes; the dry-run one decodes them to print and simulate, so
/// what is printed is exactly what the kernel would have been sent.
public protocol NetlinkTransport: Sendable {
    /// Sends request messages that each ask for an acknowledgement (`NLM_F_ACK`), batching as many into
    /// one send as the socket allows, and returns one acknowledgement per message, in order.
    func execute(_ messages: [[UInt8]]) throws(NetlinkError) -> [Acknowledgement]

    /// Sends one read request (a get or a dump) and returns the reply messages, back to back, without the
    /// terminating `NLMSG_DONE`. A kernel error for the read is thrown with `object` named.
    func query(_ message: [UInt8], object: String) throws(NetlinkError) -> [UInt8]

    /// ``query(_:object:)`` refusing a reply longer than `maximumBytes` (a dump whose size the kernel decides,
    /// such as a WireGuard device's peers), without keeping more than that.
    func query(_ message: [UInt8], object: String, maximumBytes: Int) throws(NetlinkError) -> [UInt8]
}

extension NetlinkTransport {
    /// For transports whose replies are made in memory (the dry run, tests): checked once complete.
    public func query(_ message: [UInt8], object: String, maximumBytes: Int) throws(NetlinkError) -> [UInt8] {
        let reply = try query(message, object: object)
        guard reply.count <= maximumBytes else {
            throw .malformedMessage("the reply about \(object) is longer than \(maximumBytes) bytes")
        }
        return reply
    }
}
