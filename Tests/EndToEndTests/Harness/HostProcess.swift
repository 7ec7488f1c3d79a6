import TestSupport

/// A long-running child of the harness (a namespace holder, a dockerd, a weft): TestSupport's `ChildProcess`,
/// its output in a log file, stopped with SIGTERM then SIGKILL (`terminate(grace:)`).
typealias HostProcess = ChildProcess
