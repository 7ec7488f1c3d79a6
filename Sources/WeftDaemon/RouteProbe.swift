import Glibc
import Gossip
import Netlink

/// The local address the kernel's routing picks to reach a peer: a UDP socket is connected to the peer (no
/// packet is sent) and asked for its own address. This is how weft finds its advertise address from the seeds
/// it is told to join.
enum RouteProbe {
    static func sourceAddress(toward peer: GossipAddress) -> IPAddress? {
        guard case .v4(let peerAddress) = peer.ip else { return nil }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = peer.port.bigEndian
        withUnsafeMutableBytes(of: &remote.sin_addr) { $0.copyBytes(from: peerAddress.bytes) }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        return IPAddress(bytes: withUnsafeBytes(of: local.sin_addr) { Array($0) })
    }
}
