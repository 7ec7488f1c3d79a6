/// The two worlds weft can program: the running kernel, or a dry run that prints what it would do.
///
/// A backend owns the namespace lifecycle and hands out transports; everything above it works the same
/// against either.
public protocol NetlinkBackend: Sendable {
    /// Creates a persistent (bind-mounted) namespace at `reference`'s path. Exists already: `alreadyExists`.
    func createNamespace(_ reference: NamespaceReference) throws(NetlinkError) -> NetworkNamespace
    /// Opens an existing namespace. Missing: `notFound`.
    func openNamespace(_ reference: NamespaceReference) throws(NetlinkError) -> NetworkNamespace
    /// Unmounts and removes a persistent namespace; its links go with it. Missing: `notFound`.
    func deleteNamespace(_ reference: NamespaceReference) throws(NetlinkError)
    /// Whether a persistent namespace exists at `reference`'s path.
    func namespaceExists(_ reference: NamespaceReference) -> Bool
    /// The persistent namespaces whose mount points are files directly in `directory`.
    func namespaces(in directory: String) -> [NamespaceReference]
    /// A transport whose requests act inside `namespace`.
    func transport(for namespace: NetworkNamespace) throws(NetlinkError) -> any NetlinkTransport
    /// Broadcasts a gratuitous ARP on a link of `namespace`.
    func send(_ announcement: GratuitousARP, in namespace: NetworkNamespace) throws(NetlinkError)
}

extension NetlinkBackend {
    /// A session for programming `namespace`.
    public func session(in namespace: NetworkNamespace) throws(NetlinkError) -> NetlinkSession {
        NetlinkSession(namespace: namespace, transport: try transport(for: namespace))
    }

    /// A session in the namespace `reference` names, opened for the purpose.
    public func session(in reference: NamespaceReference) throws(NetlinkError) -> NetlinkSession {
        try session(in: try openNamespace(reference))
    }
}
