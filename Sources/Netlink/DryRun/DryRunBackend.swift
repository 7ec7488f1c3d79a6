import Synchronization

/// Serves every netlink request without touching the kernel and without root: each request is decoded
/// from the bytes the kernel transport would have sent, printed as the equivalent iproute2 command, and
/// applied to a model of the kernel so later reads and refusals are what they would have been.
public final class DryRunBackend: NetlinkBackend {
    /// Where printed lines go; stdout by default.
    public typealias Output = @Sendable (String) -> Void

    private let kernel: Mutex<SimulatedKernel>
    private let output: Output
    private let showBytes: Bool

    /// - Parameters:
    ///   - showBytes: also print each message's bytes in hex, as a `#` comment under its command.
    ///   - seedFromCurrentNamespace: start the model of the current namespace from a (read-only, unprivileged)
    ///     dump of the real one, so existing devices such as the underlay interface resolve.
    public init(showBytes: Bool = false, seedFromCurrentNamespace: Bool = true, output: @escaping Output = { print($0) }) {
        var kernel = SimulatedKernel()
        var current = SimulatedKernel.Namespace()
        if seedFromCurrentNamespace, let links = try? Self.realLinks() {
            for link in links { current.insert(SimulatedKernel.SimulatedLink(link: link)) }
        }
        kernel.namespaces[NamespaceReference.current.path] = current
        self.kernel = Mutex(kernel)
        self.output = output
        self.showBytes = showBytes
    }

    private static func realLinks() throws(NetlinkError) -> [Link] {
        let transport = try KernelTransport(namespace: nil)
        let session = NetlinkSession(
            namespace: NetworkNamespace(reference: .current, fd: -1, ownsDescriptor: false), transport: transport)
        return try session.links()
    }

    public func createNamespace(_ reference: NamespaceReference) throws(NetlinkError) -> NetworkNamespace {
        try kernel.withLock { (kernel: inout SimulatedKernel) throws(NetlinkError) -> NetworkNamespace in
            if kernel.namespaces[reference.path] != nil {
                throw .alreadyExists(object: "namespace \(reference)", kernelMessage: nil)
            }
            kernel.namespaces[reference.path] = SimulatedKernel.Namespace()
            let namespace = NetworkNamespace(
                reference: reference, fd: kernel.descriptor(for: reference.path), ownsDescriptor: false)
            output(IPRoute2Renderer.createNamespace(reference, ipNetnsName: namespace.ipNetnsName))
            return namespace
        }
    }

    public func openNamespace(_ reference: NamespaceReference) throws(NetlinkError) -> NetworkNamespace {
        try kernel.withLock { (kernel: inout SimulatedKernel) throws(NetlinkError) -> NetworkNamespace in
            guard kernel.namespaces[reference.path] != nil else {
                throw .notFound(object: "namespace \(reference)", kernelMessage: nil)
            }
            return NetworkNamespace(
                reference: reference, fd: kernel.descriptor(for: reference.path), ownsDescriptor: false)
        }
    }

    public func deleteNamespace(_ reference: NamespaceReference) throws(NetlinkError) {
        try kernel.withLock { (kernel: inout SimulatedKernel) throws(NetlinkError) -> Void in
            guard kernel.namespaces[reference.path] != nil, reference != .current else {
                throw .notFound(object: "namespace \(reference)", kernelMessage: nil)
            }
            let name = NetworkNamespace(reference: reference, fd: -1, ownsDescriptor: false).ipNetnsName
            output(IPRoute2Renderer.deleteNamespace(reference, ipNetnsName: name))
            kernel.namespaces[reference.path] = nil
        }
    }

    public func namespaceExists(_ reference: NamespaceReference) -> Bool {
        kernel.withLock { $0.namespaces[reference.path] != nil }
    }

    public func namespaces(in directory: String) -> [NamespaceReference] {
        let prefix = directory + "/"
        return kernel.withLock { kernel in
            kernel.namespaces.keys.filter { $0.hasPrefix(prefix) && !$0.dropFirst(prefix.count).contains("/") }
        }.sorted().map { .path($0) }
    }

    /// Printed as a comment: iproute2 has no command that sends an ARP from another host's MAC.
    public func send(_ announcement: GratuitousARP, in namespace: NetworkNamespace) throws(NetlinkError) {
        kernel.withLock { kernel in
            let name = kernel.linkName(announcement.device, in: namespace.path)
            let kind = announcement.address.isIPv4 ? "gratuitous ARP" : "unsolicited neighbour advertisement"
            output("# \(kind) in \(namespace.reference): \(announcement.address) is-at \(announcement.mac) on \(name)")
        }
    }

    public func transport(for namespace: NetworkNamespace) throws(NetlinkError) -> any NetlinkTransport {
        DryRunTransport(backend: self, namespace: namespace.reference)
    }

    /// Decodes, prints and simulates a batch of acknowledged requests in one namespace.
    func execute(_ messages: [[UInt8]], in namespace: NamespaceReference) throws(NetlinkError) -> [Acknowledgement] {
        try kernel.withLock { (kernel: inout SimulatedKernel) throws(NetlinkError) -> [Acknowledgement] in
            let path = namespace.path
            let renderer = IPRoute2Renderer(namespace: namespace)
            var acknowledgements: [Acknowledgement] = []
            for (position, bytes) in messages.enumerated() {
                guard let message = try MessageView.split(bytes[...]).first,
                    case .operation(let operation) = try MessageDecoder.decodeRequest(message)
                else { throw .malformedMessage("dry run was sent a message that is not an operation") }
                output(
                    renderer.render(
                        operation, linkName: { kernel.linkName($0, in: path) },
                        namespaceArgument: { fd in
                            guard let target = kernel.descriptors[fd] else { return "fd:\(fd)" }
                            let prefix = NamespaceReference.ipNetnsDirectory + "/"
                            return target.hasPrefix(prefix) ? String(target.dropFirst(prefix.count)) : target
                        }))
                if showBytes { output("#   " + bytes.map(Self.hex).joined()) }
                let code = kernel.apply(operation, in: path)
                if code != 0 { output("#   ^ the kernel would refuse this: \(NetlinkError.text(for: code))") }
                acknowledgements.append(Acknowledgement(sequence: UInt32(position), errno: code, kernelMessage: nil))
            }
            return acknowledgements
        }
    }

    /// Answers a read from the model.
    func query(_ message: [UInt8], object: String, in namespace: NamespaceReference) throws(NetlinkError) -> [UInt8] {
        try kernel.withLock { (kernel: inout SimulatedKernel) throws(NetlinkError) -> [UInt8] in
            guard let view = try MessageView.split(message[...]).first,
                case .query(let query) = try MessageDecoder.decodeRequest(view)
            else { throw .malformedMessage("dry run was sent a read that is not a query") }
            switch kernel.answer(query, in: namespace.path, sequence: 0) {
            case .success(let bytes): return bytes
            case .failure(.notFound(_, let message)): throw .notFound(object: object, kernelMessage: message)
            case .failure(let error): throw error
            }
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}

/// A dry-run transport bound to one namespace of its backend's model.
struct DryRunTransport: NetlinkTransport {
    let backend: DryRunBackend
    let namespace: NamespaceReference

    func execute(_ messages: [[UInt8]]) throws(NetlinkError) -> [Acknowledgement] {
        try backend.execute(messages, in: namespace)
    }

    func query(_ message: [UInt8], object: String) throws(NetlinkError) -> [UInt8] {
        try backend.query(message, object: object, in: namespace)
    }
}
