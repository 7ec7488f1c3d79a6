/// A read from the kernel: one link, or a dump of a table.
public enum NetlinkQuery: Hashable, Sendable {
    /// One link, by name or index (`RTM_GETLINK`).
    case link(LinkReference)
    /// Every link in the namespace.
    case links
    /// Every FDB entry of every device and bridge (`AF_BRIDGE` neighbours).
    case forwardingDatabase
    /// Every neighbour entry of one address family (`AF_INET` or `AF_INET6`).
    case neighbours(family: UInt8)
    /// Every address of one family assigned to any link (`RTM_GETADDR`).
    case addresses(family: UInt8)
}
