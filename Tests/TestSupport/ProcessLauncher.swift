import Foundation
import Synchronization

/// Starts test children one at a time.
///
/// Foundation's `Process.run()` on Linux is not safe to call from two threads at once: it learns that its child
/// exited from a socket pair made without close-on-exec, and closes in the child only the descriptors open when
/// it listed them, so a second `run()` beside it can leak its socket end into the first child. The second
/// process then counts as running, and `waitUntilExit` waits, until the first one ends (a serf agent, a weft).
/// The end-to-end harness has the same lock (`Spawn`); it links none of these modules.
public enum ProcessLauncher {
    private static let lock = Mutex(())

    /// Starts `process` (it runs on after this returns).
    public static func start(_ process: Process) throws {
        try lock.withLock { _ in try process.run() }
    }
}
