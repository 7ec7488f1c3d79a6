import Glibc

/// Debian's `wireguard-go`, configured over its UAPI socket (`/var/run/wireguard/<interface>.sock`, root only):
/// the WireGuard of hosts whose kernel has none.
public struct UserspaceWireGuard: LiveWireGuardBackend {
    public var kind: WireGuardBackendKind { .userspace }
    /// The directory of wireguard-go's sockets.
    public let socketDirectory: String
    /// A reply slower than this means the daemon is wedged: the request fails instead of hanging.
    static let timeoutSeconds = 5

    public init(socketDirectory: String = "/var/run/wireguard") {
        self.socketDirectory = socketDirectory
    }

    public func socketPath(interface: String) -> String { "\(socketDirectory)/\(interface).sock" }

    public func apply(_ configuration: WireGuardConfiguration, interface: String) throws(WireGuardError) {
        let reply = try exchange(WireGuardUAPI.setRequest(configuration), path: socketPath(interface: interface))
        let code = try WireGuardUAPI.errno(of: reply)
        guard code == 0 else { throw .refused(errno: code) }
    }

    /// Updates the running device's peers in place (``WireGuardUAPI/updateRequest(peers:present:keepaliveSeconds:)``).
    public func update(peers: [WireGuardPeer], present: [WireGuardKey], keepaliveSeconds: UInt16,
                       interface: String) throws(WireGuardError) {
        let request = WireGuardUAPI.updateRequest(peers: peers, present: present, keepaliveSeconds: keepaliveSeconds)
        let code = try WireGuardUAPI.errno(of: try exchange(request, path: socketPath(interface: interface)))
        guard code == 0 else { throw .refused(errno: code) }
    }

    /// Sets the key, and the port when given, leaving the peers as they are.
    public func setIdentity(keys: WireGuardKeyPair, listenPort: UInt16?, interface: String) throws(WireGuardError) {
        let request = WireGuardUAPI.identityRequest(keys: keys, listenPort: listenPort)
        let code = try WireGuardUAPI.errno(of: try exchange(request, path: socketPath(interface: interface)))
        guard code == 0 else { throw .refused(errno: code) }
    }

    public func status(interface: String) throws(WireGuardError) -> WireGuardStatus {
        try WireGuardUAPI.parseStatus(try exchange(WireGuardUAPI.getRequest, path: socketPath(interface: interface)))
    }

    /// Sends one request and reads its reply, up to the `errno=` line and the empty line after it.
    func exchange(_ request: String, path: String) throws(WireGuardError) -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .socket(path: path, action: "open a socket", errno: Glibc.errno) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: Self.timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw .socket(path: path, action: "use a path that long", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw .socket(path: path, action: "connect", errno: Glibc.errno) }
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw .socket(path: path, action: "send the request", errno: Glibc.errno) }
            sent += count
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !Self.isComplete(reply) {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else { throw .socket(path: path, action: "read the reply", errno: Glibc.errno) }
            reply += buffer[..<count]
            guard reply.count <= WireGuardUAPI.maximumReplyBytes else {
                throw .malformedReply("longer than \(WireGuardUAPI.maximumReplyBytes) bytes")
            }
        }
        return String(decoding: reply, as: UTF8.self)
    }

    /// A reply ends with its `errno=N` line and an empty line.
    static func isComplete(_ reply: [UInt8]) -> Bool {
        guard reply.count >= 2, reply[reply.count - 1] == 0x0A, reply[reply.count - 2] == 0x0A else { return false }
        let lines = reply.dropLast(2).split(separator: 0x0A)
        return lines.last.map { $0.starts(with: Array("errno=".utf8)) } ?? false
    }
}
