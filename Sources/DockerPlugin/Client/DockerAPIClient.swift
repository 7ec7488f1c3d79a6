import Glibc
import Overlay

/// weft's only use of Docker's API: `GET /networks/<id>?verbose=true`, whose `Services` lists each swarm
/// service's VIP and task addresses on the network (read from libnetwork's gossiped service records, on any node
/// that has the network). Nothing else is ever sent: one request per connection, a GET to that one path with an
/// ID of letters and digits, so the socket's full power (whoever holds Docker's socket is root) is not used.
/// Bounded: a timeout on every read and write, an answer of at most ``ServiceRecords/maximumBodySize``.
public struct DockerAPIClient: ServiceRecordSource {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public let socketPath: String
    public let timeout: Duration

    public init(socketPath: String, timeout: Duration = .seconds(3)) {
        self.socketPath = socketPath
        self.timeout = timeout
    }

    public func networkDescription(_ id: String) async throws -> [UInt8] {
        guard !id.isEmpty, id.count <= 64, id.utf8.allSatisfy({ (48...57).contains($0) || (97...122).contains($0) || (65...90).contains($0) }) else {
            throw Failure(description: "\"\(id)\" is not a Docker network ID")
        }
        let (status, body) = try get("/networks/\(id)?verbose=true")
        guard status == 200 else {
            throw Failure(description: "Docker answered GET /networks/\(id.prefix(12)) with \(status): \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        return body
    }

    /// HTTP/1.0, so the answer is never chunked and ends when Docker closes the connection.
    private func get(_ path: String) throws -> (status: Int, body: [UInt8]) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let seconds = timeout.components.seconds
        var limit = timeval(tv_sec: Int(seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw Failure(description: "socket path too long: \(socketPath)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: bytes) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect \(socketPath): \(String(cString: strerror(errno)))") }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: docker\r\nUser-Agent: weft\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw Failure(description: "send to \(socketPath): \(String(cString: strerror(errno)))") }
            sent += count
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let limitBytes = ServiceRecords.maximumBodySize + 16_384
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            if count < 0 { throw Failure(description: "read from \(socketPath): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            answer += chunk[0..<count]
            guard answer.count <= limitBytes else { throw Failure(description: "Docker's answer to GET \(path) is over \(limitBytes) bytes") }
        }
        guard let end = Self.headerEnd(answer) else { throw Failure(description: "Docker's answer to GET \(path) has no header end") }
        let statusLine = String(decoding: answer[..<(answer.firstIndex(of: 13) ?? end)], as: UTF8.self)
        let words = statusLine.split(separator: " ")
        guard words.count >= 2, words[0].hasPrefix("HTTP/"), let status = Int(words[1]) else {
            throw Failure(description: "Docker's answer to GET \(path) starts \"\(statusLine.prefix(80))\"")
        }
        return (status, Array(answer[(end + 4)...]))
    }

    private static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}
