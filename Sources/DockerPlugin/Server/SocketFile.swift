import Glibc

/// File-system chores around the listening socket: making its directory, telling a stale socket file from a live
/// one, restricting its permissions, and removing it on shutdown only if it is still ours.
enum SocketFile {
    /// `sun_path` is 108 bytes including the terminating NUL.
    static let maxPathLength = 107

    /// Device and inode of the socket file, to recognise it again at shutdown.
    struct Identity: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
    }

    /// Gets the path ready for `bind`: creates the parent directory if needed, removes a stale socket file that
    /// nobody listens on, and refuses a live socket or a file that is not a socket.
    /// - Returns: whether a stale socket file was removed.
    static func prepare(_ path: String) throws(PluginServerError) -> Bool {
        guard path.utf8.count <= maxPathLength else {
            throw .socketPathTooLong(path: path, limit: maxPathLength)
        }
        try makeParentDirectory(of: path)
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return false }
            throw .socketSetupFailed(path: path, operation: "inspect", errno: errno)
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw .notASocket(path: path) }
        switch probe(path) {
        case .listening:
            throw .socketInUse(path: path)
        case .absent:
            return false
        case .stale:
            guard unlink(path) == 0 || errno == ENOENT else {
                throw .socketSetupFailed(path: path, operation: "remove the stale socket", errno: errno)
            }
            return true
        }
    }

    /// Sets the socket file's permission bits.
    static func restrict(_ path: String, permissions: UInt32) throws(PluginServerError) {
        guard chmod(path, mode_t(permissions)) == 0 else {
            throw .socketSetupFailed(path: path, operation: "set permissions on", errno: errno)
        }
    }

    /// The identity of the file at `path`, if there is one.
    static func identity(of path: String) -> Identity? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Removes the socket file if it is still the one this server bound (another instance may have replaced it).
    static func remove(_ path: String, ifStill identity: Identity?) {
        guard let identity, self.identity(of: path) == identity else { return }
        unlink(path)
    }

    enum ProbeResult {
        case listening, stale, absent
    }

    /// Connects to the socket to learn whether a process is listening on it. Anything but "refused" or "gone"
    /// is taken as a live owner, so weft never removes a socket it cannot prove is dead.
    static func probe(_ path: String) -> ProbeResult {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .listening }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(maxPathLength))
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result == 0 { return .listening }
        switch errno {
        case ECONNREFUSED: return .stale
        case ENOENT: return .absent
        default: return .listening
        }
    }

    private static func makeParentDirectory(of path: String) throws(PluginServerError) {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        let parent = String(path[..<slash])
        var current = parent.hasPrefix("/") ? "" : "."
        for component in parent.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw .socketSetupFailed(path: current, operation: "create directory", errno: errno)
            }
        }
    }

    static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}
