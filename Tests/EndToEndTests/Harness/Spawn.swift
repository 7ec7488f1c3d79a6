import Foundation
import Synchronization

/// The one way the harness starts a child: one at a time, with an empty signal mask (`SignalMask`).
///
/// One at a time because Foundation's `Process.run()` on Linux is not safe to call from two threads at once. It
/// learns that its child exited from a socket pair it makes without close-on-exec, one end left open in the
/// child; it closes every other descriptor in the child, but only those that were open when it listed them. A
/// second `run()` on another thread whose socket pair appeared after that list leaks its end into the first
/// child. A short `docker exec … pidof ping` started beside a long `docker exec … ping` then counted as running
/// until the ping ended: killed at its timeout, its `waitUntilExit` still waited ten minutes (a CI run's
/// forged-gossip test hit its time limit that way).
enum Spawn {
    private static let lock = Mutex(())

    /// Starts `process` (it runs on after this returns).
    static func start(_ process: Process) throws {
        try lock.withLock { _ in
            try SignalMask.withEmptyMask { try process.run() }
        }
    }
}
