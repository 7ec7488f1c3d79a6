import Glibc

/// A minimal HTTP/1.1 client for the plugin socket: POST with a JSON body, one request at a time on a
/// keep-alive connection, as dockerd calls it. `weft join` uses it to reach a running daemon, and the
/// control-plane benchmark to time requests the way Docker sends them.
public final class PluginClient {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) { self.description = description }
    }

    private let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to the Unix socket at `path`.
    public init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw Failure(description: "path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: bytes) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// Posts `body` to `path` and returns the status and the response body.
    public func post(_ path: String, _ body: String) throws -> (status: Int, body: String) {
        try request("POST", "/" + path, body)
    }

    /// Sends one request (`target` with its leading slash) and returns the status and the response body.
    public func request(_ method: String, _ target: String, _ body: String = "") throws -> (status: Int, body: String) {
        let payload = Array(body.utf8)
        let head = "\(method) \(target) HTTP/1.1\r\nHost: plugin\r\nContent-Length: \(payload.count)\r\n\r\n"
        try write(Array(head.utf8) + payload)
        let (status, headers) = try readHead()
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count < length { try fill() }
        let responseBody = String(decoding: buffer[..<length], as: UTF8.self)
        buffer.removeFirst(length)
        return (status, responseBody)
    }

    /// GETs `target`, a reply that lasts: hands each line of a chunked body to `line` as it arrives, until the
    /// body ends, the daemon closes, or `line` returns `false`. A reply with a length (an error) comes back whole.
    /// - Returns: the status, and the body of a reply that was not streamed (empty otherwise).
    public func follow(_ target: String, line: (String) throws -> Bool) throws -> (status: Int, body: String) {
        try write(Array("GET \(target) HTTP/1.1\r\nHost: plugin\r\nContent-Length: 0\r\n\r\n".utf8))
        let (status, headers) = try readHead()
        guard headers["transfer-encoding"]?.lowercased() == "chunked" else {
            let length = Int(headers["content-length"] ?? "0") ?? 0
            while buffer.count < length { try fill() }
            return (status, String(decoding: buffer[..<length], as: UTF8.self))
        }
        var pending: [UInt8] = []
        while true {
            let sizeEnd = try readUntil([13, 10])
            let sizeText = String(decoding: buffer[..<sizeEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingSpaces, radix: 16), size >= 0 else {
                throw Failure(description: "bad chunk size \(String(sizeText).debugDescription)")
            }
            buffer.removeFirst(sizeEnd + 2)
            if size == 0 { return (status, "") }
            while buffer.count < size + 2 { try fill() }
            pending += buffer[..<size]
            buffer.removeFirst(size + 2)
            while let newline = pending.firstIndex(of: 0x0A) {
                let text = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeFirst(newline + 1)
                guard try line(text) else { return (status, "") }
            }
        }
    }

    /// Reads a response head: the status and the headers (names in lower case).
    private func readHead() throws -> (status: Int, headers: [String: String]) {
        let headerEnd = try readUntil([13, 10, 13, 10])
        let header = String(decoding: buffer[..<headerEnd], as: UTF8.self)
        buffer.removeFirst(headerEnd + 4)
        let lines = header.split(separator: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
            throw Failure(description: "bad status line in \(header)")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            headers[parts[0].lowercased()] = String(parts[1]).trimmingSpaces
        }
        return (status, headers)
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard sent > 0 else { throw Failure(description: "write: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    private func readUntil(_ marker: [UInt8]) throws -> Int {
        while true {
            if buffer.count >= marker.count {
                for start in 0...(buffer.count - marker.count) where buffer[start..<(start + marker.count)].elementsEqual(marker) {
                    return start
                }
            }
            try fill()
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { throw Failure(description: "connection closed") }
        buffer += chunk[..<count]
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
