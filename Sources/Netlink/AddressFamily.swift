import Addressing
import Glibc

extension IPAddress {
    /// The kernel's address family constant (`AF_INET` or `AF_INET6`), as netlink headers carry it.
    public var family: UInt8 {
        switch self {
        case .v4: UInt8(AF_INET)
        case .v6: UInt8(AF_INET6)
        }
    }
}
