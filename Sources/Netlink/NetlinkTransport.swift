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
}
