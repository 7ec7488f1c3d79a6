import Foundation
import Synchronization

/// Starts the Foundation `Process`es that code under test makes itself (the WireGuard device's `launch:`), one at
/// a time. Tests start their own children with `Command` and `ChildProcess`.
///
/// Foundation's `Process.run()` on Linux is not safe to call from two threads at once: it learns that its child
/// exited from a socket pair made without close-on-exec, and closes in the child only the descriptors open when
/// it listed them, so a second `run()` beside it can leak its socket end into the first child.
public enum ProcessLauncher {
    private static let lock = Mutex(())

    /// Starts `process` (it runs on after this returns).
    public static func start(_ process: Process) throws {
        try lock.withLock { _ in try process.run() }
    }
}
