extension NetlinkOperation {
    /// The iproute2 command that makes this change, for an operator to read or run (`weft diff`).
    /// - Parameters:
    ///   - namespace: where the command runs (`ip -n NAME`, `nsenter --net=PATH ip`, or plain `ip`).
    ///   - linkName: the name of the link with an index in that namespace.
    ///   - namespaceArgument: how a `netns` argument names the namespace a link moves to.
    public func ipRoute2Command(
        in namespace: NamespaceReference, linkName: (Int32) -> String, namespaceArgument: String
    ) -> String {
        IPRoute2Renderer(namespace: namespace).render(self, linkName: linkName, namespaceArgument: { _ in namespaceArgument })
    }
}
