import Glibc

/// An exclusive `flock` on `lock` in a state directory, held as long as the value lives (the daemon's whole
/// life): a second weft on the same state directory is refused instead of overwriting the first one's state.
/// The kernel releases the lock with the descriptor, also when the process is killed with SIGKILL.
final class StateDirectoryLock: Sendable {
    let path: String
    private let fd: Int32

    /// Takes the lock, or throws `inUse` naming the holder's pid (written into the file by the holder).
    init(directory: String) throws(StateStore.StoreError) {
        let path = directory + "/lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .unwritable(path: path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.holder(fd)
            close(fd)
            if code == EWOULDBLOCK { throw .inUse(directory: directory, pid: holder) }
            throw .unwritable(path: path, reason: "cannot lock it: \(String(cString: strerror(code)))")
        }
        let pid = Array("\(getpid())\n".utf8)
        let written = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard fchmod(fd, 0o600) == 0, ftruncate(fd, off_t(pid.count)) == 0, written == pid.count else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .unwritable(path: path, reason: reason)
        }
        self.path = path
        self.fd = fd
    }

    /// Unlocked explicitly: a child process forked meanwhile may still share the descriptor until its exec.
    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// The pid the holder wrote, if it is one (it may not have written it yet).
    private static func holder(_ fd: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 16)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: bytes.prefix(count).prefix { $0 != 10 }, as: UTF8.self)
        return Int32(text).flatMap { $0 > 0 ? $0 : nil }
    }
}
