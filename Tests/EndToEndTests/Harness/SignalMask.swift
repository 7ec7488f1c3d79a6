import Foundation
import Glibc

/// Children inherit the signal mask of the thread that spawns them, and threads of the Swift runtime and of
/// Dispatch block most signals. A dockerd started from such a thread passed its mask (SIGALRM blocked among
/// others) down to every container, where busybox `ping -c 2` then waited forever for its interval alarm.
/// Every process the harness starts is therefore spawned with an empty mask, as from a login shell.
enum SignalMask {
    /// Runs `spawn` (which must start its child synchronously, as `Process.run()` does) with this thread's
    /// signal mask emptied, then restores the mask.
    static func withEmptyMask<T>(_ spawn: () throws -> T) rethrows -> T {
        var empty = sigset_t()
        var saved = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        return try spawn()
    }
}
