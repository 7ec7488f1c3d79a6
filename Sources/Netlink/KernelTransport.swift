import CMnl
import Glibc
import Synchronization

/// A libmnl netlink socket (rtnetlink unless told otherwise) bound to one network namespace.
///
/// The socket is opened on a dedicated thread that has entered the namespace, then used from any thread;
/// a mutex serialises requests so replies are never interleaved. Extended acknowledgements are on, so a
/// refusal carries the kernel's own explanation.
public final class KernelTransport: NetlinkTransport {
    /// Messages per send. The kernel processes a send synchronously and queues one acknowledgement per
    /// message; this bounds that queue well inside the receive buffer set below.
    static let messagesPerSend = 512
    static let bytesPerSend = 64 * 1024
    static let receiveBufferBytes: Int32 = 8 * 1024 * 1024
    static let receiveBufferSize = 64 * 1024
    /// A reply that takes longer than this means the socket is wedged; the request fails instead of hanging.
    static let receiveTimeoutSeconds = 10

    private struct Socket: ~Copyable {
        let handle: OpaquePointer
        let portID: UInt32
        var nextSequence: UInt32 = 1
        var buffer = [UInt8](repeating: 0, count: KernelTransport.receiveBufferSize)

        deinit { mnl_socket_close(handle) }
    }

    private let socket: Mutex<Socket>
    /// The namespace the socket lives in, for messages.
    public let namespaceLabel: String

    /// Opens a socket in `namespace` (nil: the process's own namespace); `netlinkProtocol` is `NETLINK_ROUTE`
    /// or `NETLINK_GENERIC` (the kernel WireGuard's family).
    public init(namespace: NetworkNamespace?, netlinkProtocol: Int32 = NETLINK_ROUTE) throws(NetlinkError) {
        let entry: NamespaceThread.Entry = namespace.map { .join(fd: $0.fd) } ?? .none
        let opened = try NamespaceThread.run(entry) { () throws(NetlinkError) -> OpenedSocket in
            try Self.openSocket(netlinkProtocol)
        }
        socket = Mutex(Socket(handle: opened.handle.pointer, portID: opened.portID))
        namespaceLabel = namespace?.reference.description ?? "current"
    }

    private struct OpenedSocket: @unchecked Sendable {
        struct Handle: @unchecked Sendable { let pointer: OpaquePointer }
        let handle: Handle
        let portID: UInt32
    }

    private static func openSocket(_ netlinkProtocol: Int32) throws(NetlinkError) -> OpenedSocket {
        guard let handle = mnl_socket_open(netlinkProtocol) else { throw .socket(action: "open", errno: errno) }
        guard mnl_socket_bind(handle, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let code = errno
            mnl_socket_close(handle)
            throw .socket(action: "bind", errno: code)
        }
        let fd = mnl_socket_get_fd(handle)
        var on: Int32 = 1
        _ = setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, socklen_t(MemoryLayout<Int32>.size))
        var size = receiveBufferBytes
        // SO_RCVBUFFORCE passes rmem_max for root; plain SO_RCVBUF is the fallback without CAP_NET_ADMIN.
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return OpenedSocket(handle: .init(pointer: handle), portID: mnl_socket_get_portid(handle))
    }

    public func execute(_ messages: [[UInt8]]) throws(NetlinkError) -> [Acknowledgement] {
        try socket.withLock { (socket: inout Socket) throws(NetlinkError) -> [Acknowledgement] in
            var acknowledgements: [Acknowledgement] = []
            acknowledgements.reserveCapacity(messages.count)
            var start = 0
            while start < messages.count {
                var batch: [UInt8] = []
                var end = start
                while end < messages.count, end - start < Self.messagesPerSend,
                    batch.isEmpty || batch.count + messages[end].count <= Self.bytesPerSend
                {
                    var message = messages[end]
                    OperationEncoder.stamp(&message, sequence: socket.nextSequence &+ UInt32(end - start))
                    batch.append(contentsOf: message)
                    end += 1
                }
                let firstSequence = socket.nextSequence
                socket.nextSequence &+= UInt32(end - start)
                try Self.send(batch, on: &socket)
                acknowledgements += try Self.receiveAcknowledgements(
                    count: end - start, firstSequence: firstSequence, on: &socket)
                start = end
            }
            return acknowledgements
        }
    }

    public func query(_ message: [UInt8], object: String) throws(NetlinkError) -> [UInt8] {
        try query(message, object: object, maximumBytes: .max)
    }

    /// A reply over `maximumBytes` is read to its end (so the socket stays in step) and dropped, then refused.
    /// A dump's `NLMSG_DONE` carrying a negative errno (generic netlink dumps report their errors there) fails it.
    public func query(_ message: [UInt8], object: String, maximumBytes: Int) throws(NetlinkError) -> [UInt8] {
        try socket.withLock { (socket: inout Socket) throws(NetlinkError) -> [UInt8] in
            var request = message
            let sequence = socket.nextSequence
            socket.nextSequence &+= 1
            OperationEncoder.stamp(&request, sequence: sequence)
            try Self.send(request, on: &socket)
            var replies: [UInt8] = []
            var oversized = false
            while true {
                let received = try Self.receive(on: &socket)
                var finished = false
                for reply in try MessageView.split(socket.buffer[0..<received]) where reply.sequence == sequence {
                    switch Int32(reply.type) {
                    case NLMSG_DONE:
                        finished = true
                        if reply.payload.count >= 4 {
                            let code = Int32(bitPattern: reply.payload.loadUInt32(at: reply.payload.startIndex))
                            if code < 0 {
                                throw NetlinkError.fromAcknowledgement(errno: -code, object: object, kernelMessage: nil)
                            }
                        }
                    case NLMSG_ERROR:
                        let ack = try Acknowledgement.decode(reply)
                        if ack.errno != 0 {
                            throw NetlinkError.fromAcknowledgement(
                                errno: ack.errno, object: object, kernelMessage: ack.kernelMessage)
                        }
                        finished = true
                    default:
                        if !oversized, replies.count + MessageView.headerSize + reply.payload.count <= maximumBytes {
                            replies += Self.messageBytes(reply)
                        } else {
                            oversized = true
                            replies = []
                        }
                        // A plain get is answered by one message without NLM_F_MULTI.
                        if Int32(reply.flags) & NLM_F_MULTI == 0 { finished = true }
                    }
                }
                if finished {
                    if oversized { throw NetlinkError.malformedMessage("the reply about \(object) is longer than \(maximumBytes) bytes") }
                    return replies
                }
            }
        }
    }

    private static func messageBytes(_ message: MessageView) -> [UInt8] {
        let length = MessageView.headerSize + message.payload.count
        var bytes = [UInt8](repeating: 0, count: Int(cmnl_align(length)))
        withUnsafeBytes(of: UInt32(length).littleEndian) { for i in 0..<4 { bytes[i] = $0[i] } }
        withUnsafeBytes(of: message.type.littleEndian) { for i in 0..<2 { bytes[4 + i] = $0[i] } }
        withUnsafeBytes(of: message.flags.littleEndian) { for i in 0..<2 { bytes[6 + i] = $0[i] } }
        withUnsafeBytes(of: message.sequence.littleEndian) { for i in 0..<4 { bytes[8 + i] = $0[i] } }
        bytes.replaceSubrange(MessageView.headerSize..<length, with: message.payload)
        return bytes
    }

    private static func send(_ bytes: [UInt8], on socket: inout Socket) throws(NetlinkError) {
        let sent = bytes.withUnsafeBytes { raw in mnl_socket_sendto(socket.handle, raw.baseAddress, raw.count) }
        guard sent == bytes.count else { throw .socket(action: "send \(bytes.count) bytes", errno: errno) }
    }

    /// Receives one datagram into the socket's buffer and returns its length.
    private static func receive(on socket: inout Socket) throws(NetlinkError) -> Int {
        let handle = socket.handle
        let received = socket.buffer.withUnsafeMutableBytes { raw in
            mnl_socket_recvfrom(handle, raw.baseAddress, raw.count)
        }
        guard received >= 0 else {
            let code = errno
            throw .socket(action: code == EAGAIN ? "receive a reply in time" : "receive", errno: code)
        }
        return received
    }

    private static func receiveAcknowledgements(
        count: Int, firstSequence: UInt32, on socket: inout Socket
    ) throws(NetlinkError) -> [Acknowledgement] {
        var slots = [Acknowledgement?](repeating: nil, count: count)
        var outstanding = count
        while outstanding > 0 {
            let received = try receive(on: &socket)
            for reply in try MessageView.split(socket.buffer[0..<received]) where Int32(reply.type) == NLMSG_ERROR {
                let ack = try Acknowledgement.decode(reply)
                let slot = Int(ack.sequence &- firstSequence)
                guard slot >= 0, slot < count, slots[slot] == nil else { continue }
                slots[slot] = ack
                outstanding -= 1
            }
        }
        return slots.map { $0! }
    }
}
