import Glibc

/// Small files only weft's user may read (the gossip keys, weft's identity key, the pinned keys of other hosts):
/// read without following symlinks and refused when others could read or write them; written whole or not at all
/// (a temporary file with mode 0600, flushed, renamed over the old one). No error quotes the content.
public enum SecretFile {
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case unwritable(path: String, reason: String)
        case insecure(path: String, reason: String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "\(path) cannot be read: \(reason)"
            case .unwritable(let path, let reason): "\(path) cannot be written: \(reason)"
            case .insecure(let path, let reason): "\(path) is not private to its owner: \(reason); chmod 600 \(path)"
            }
        }
    }

    /// The file's bytes, nil when it does not exist.
    public static func read(_ path: String, maxBytes: Int) throws(Failure) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            if errno == ELOOP { throw .insecure(path: path, reason: "a symbolic link") }
            throw .unreadable(path: path, reason: lastError)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: lastError) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .insecure(path: path, reason: "not a regular file") }
        guard info.st_uid == geteuid() else { throw .insecure(path: path, reason: "owned by uid \(info.st_uid), not \(geteuid())") }
        guard info.st_mode & 0o077 == 0 else {
            throw .insecure(path: path, reason: "mode \(String(info.st_mode & 0o777, radix: 8)), expected 600")
        }
        guard Int(info.st_size) <= maxBytes else { throw .unreadable(path: path, reason: "larger than \(maxBytes) bytes") }
        var bytes = [UInt8](repeating: 0, count: maxBytes + 1)
        var count = 0
        while count < bytes.count {
            let read = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if read < 0 { throw .unreadable(path: path, reason: lastError) }
            if read == 0 { break }
            count += read
        }
        guard count <= maxBytes else { throw .unreadable(path: path, reason: "larger than \(maxBytes) bytes") }
        return Array(bytes[..<count])
    }

    /// Replaces the file with `bytes` (mode 0600), durably.
    public static func write(_ path: String, _ bytes: [UInt8]) throws(Failure) {
        let temporary = path + ".tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .unwritable(path: temporary, reason: lastError) }
        let written = bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let count = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
        let flushed = written && fsync(fd) == 0
        let reason = lastError
        close(fd)
        guard flushed else {
            unlink(temporary)
            throw .unwritable(path: temporary, reason: reason)
        }
        guard rename(temporary, path) == 0 else {
            let reason = lastError
            unlink(temporary)
            throw .unwritable(path: path, reason: reason)
        }
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let directoryFD = open(directory.isEmpty ? (path.hasPrefix("/") ? "/" : ".") : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    private static var lastError: String { String(cString: strerror(errno)) }
}
