import Foundation
import Synchronization

/// One thread that runs the jobs of the tasks that start and watch children: `ChildProcess.start` waits (blocking
/// its caller) until its child runs, and that work must not need a cooperative thread the caller may hold.
final class ProcessThread: TaskExecutor, SerialExecutor, @unchecked Sendable {
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
            for job in batch {
                job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
            }
        }
    }
}

/// The actor whose executor is `ProcessThread`: `Command` and `ChildProcess` run swift-subprocess isolated to it
/// (its calls run on their caller's actor), so a child starts while the thread that asked for it waits.
@globalActor
actor ProcessActor {
    static let shared = ProcessActor()

    nonisolated var unownedExecutor: UnownedSerialExecutor { ProcessThread.shared.asUnownedSerialExecutor() }
}

/// A value one task sets and another thread reads (after a semaphore says it is there).
final class Slot<Value: Sendable>: Sendable {
    private let storage = Mutex<Value?>(nil)

    var value: Value? { storage.withLock { $0 } }

    func set(_ value: Value) { storage.withLock { $0 = value } }
}
