import Netlink
import Synchronization

/// The dry-run backend, counting what is asked of the kernel: operations (each acknowledged request), dumps
/// (reads with `NLM_F_DUMP`) and single reads.
final class CountingBackend: DryRunWrapper {
    struct Counts: Sendable, Equatable {
        var operations = 0
        var dumps = 0
        var reads = 0
    }

    let inner: DryRunBackend
    private let counts = Mutex(Counts())

    init() {
        inner = DryRunBackend(seedFromCurrentNamespace: false) { _ in }
    }

    /// The counts since the last call, which starts them again.
    func take() -> Counts {
        counts.withLock { counts in
            defer { counts = Counts() }
            return counts
        }
    }

    fileprivate func record(operations: Int = 0, dumps: Int = 0, reads: Int = 0) {
        counts.withLock {
            $0.operations += operations
            $0.dumps += dumps
            $0.reads += reads
        }
    }

    func transport(for namespace: NetworkNamespace) throws(NetlinkError) -> any NetlinkTransport {
        CountingTransport(inner: try inner.transport(for: namespace), backend: self)
    }
}

private struct CountingTransport: NetlinkTransport {
    let inner: any NetlinkTransport
    let backend: CountingBackend

    func execute(_ messages: [[UInt8]]) throws(NetlinkError) -> [Acknowledgement] {
        backend.record(operations: messages.count)
        return try inner.execute(messages)
    }

    func query(_ message: [UInt8], object: String) throws(NetlinkError) -> [UInt8] {
        // nlmsghdr: length (4 bytes), type (2), flags (2, host order); NLM_F_DUMP is NLM_F_ROOT | NLM_F_MATCH.
        let flags = message.count >= 8 ? UInt16(message[6]) | UInt16(message[7]) << 8 : 0
        if flags & 0x300 == 0x300 { backend.record(dumps: 1) } else { backend.record(reads: 1) }
        return try inner.query(message, object: object)
    }
}
