import Glibc

/// Whether a child of this process has exited, read without reaping it (`waitid` with `WNOWAIT`).
///
/// Foundation's `Process` learns of an exit only when a socket end it leaves in the child closes, and a grandchild
/// (a `sleep` a shell started, a daemon's helper) inherits that end: `isRunning` and `waitUntilExit` then wait for
/// the grandchild too. The kernel knows at once; `Command` and `ChildProcess` ask it.
enum ChildStatus: Equatable {
    case running
    /// Exited with `status` (128 + the signal for a signal), not yet reaped.
    case exited(status: Int32, signal: Int32?)
    /// Already reaped (by Foundation): its `Process` has the status.
    case reaped

    static func of(_ pid: pid_t) -> ChildStatus {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 {
            if errno == EINTR { continue }
            return .reaped
        }
        guard info._sifields._sigchld.si_pid == pid else { return .running }
        let status = info._sifields._sigchld.si_status
        return info.si_code == CLD_EXITED ? .exited(status: status, signal: nil) : .exited(status: 128 + status, signal: status)
    }
}
