import Foundation
import Glibc
import Synchronization

/// The one place test children are spawned: one at a time, each with an empty signal mask. `Command`,
/// `ChildProcess` and the code under test's own `launch:` hooks (the WireGuard device) all start through it.
///
/// One at a time because Foundation's `Process.run()` on Linux is not safe to call from two threads at once: it
/// learns that its child exited from a socket pair made without close-on-exec, and closes in the child only the
/// descriptors open when it listed them, so a second `run()` beside it can leak its socket end into the first
/// child. That child's short command then counts as running, and `waitUntilExit` waits, until the other child
/// ends (a `docker exec … ping`, a serf agent, a weft).
///
/// With an empty mask because children inherit the signal mask of the spawning thread, and threads of the Swift
/// runtime and of Dispatch block most signals: a dockerd started from such a thread passed SIGALRM blocked down
/// to every container, where busybox `ping -c 2` then waited forever for its interval alarm.
public enum ProcessLauncher {
    private static let lock = Mutex(())

    /// Starts `process` (it runs on after this returns).
    public static func start(_ process: Process) throws {
        try lock.withLock { _ in
            var empty = sigset_t()
            var saved = sigset_t()
            sigemptyset(&empty)
            pthread_sigmask(SIG_SETMASK, &empty, &saved)
            defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
            try process.run()
        }
    }
}
