import Netlink

/// A test backend around the dry-run one that changes only what its transports do: everything else is the
/// dry-run backend's.
protocol DryRunWrapper: NetlinkBackend {
    var inner: DryRunBackend { get }
}

extension DryRunWrapper {
    func createNamespace(_ reference: NamespaceReference) throws(NetlinkError) -> NetworkNamespace {
        try inner.createNamespace(reference)
    }

    func openNamespace(_ reference: NamespaceReference) throws(NetlinkError) -> NetworkNamespace {
        try inner.openNamespace(reference)
    }

    func deleteNamespace(_ reference: NamespaceReference) throws(NetlinkError) { try inner.deleteNamespace(reference) }

    func namespaceExists(_ reference: NamespaceReference) -> Bool { inner.namespaceExists(reference) }

    func namespaces(in directory: String) -> [NamespaceReference] { inner.namespaces(in: directory) }

    func send(_ announcement: GratuitousARP, in namespace: NetworkNamespace) throws(NetlinkError) {
        try inner.send(announcement, in: namespace)
    }
}
