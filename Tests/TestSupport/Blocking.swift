import Foundation
import Synchronization

/// Runs async process work for synchronous callers (`Shell`, a `defer` that stops a child) without starving the
/// cooperative pool.
///
/// The work runs on one thread of its own (a task executor), and the caller's thread waits on a semaphore. On a
/// two-core machine the cooperative pool has two threads: if the work ran there, two synchronous callers waiting
/// at once would leave it no thread to run on.
public enum Blocking {
    /// Runs `body` on the process thread and waits for its result.
    public static func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: ProcessThread.shared) {
            let outcome: Result<T, any Error>
            do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }

    /// Runs non-throwing `body` on the process thread and waits for its result.
    public static func wait<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        // The throwing form never throws for a body that cannot.
        try! wait { () async throws -> T in await body() }
    }
}

/// One thread that runs the jobs of the tasks that start, watch and stop children: the executor `Blocking` and
/// `ChildProcess` prefer, so their work never waits for a cooperative thread a blocked caller holds.
final class ProcessThread: TaskExecutor, @unchecked Sendable {
    static let shared = ProcessThread()

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    private init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "test-processes"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
