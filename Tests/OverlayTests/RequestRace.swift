import Dispatch
import Foundation
import Overlay
import Synchronization
import Testing

/// Concurrent driver requests that really interleave: the driver actor is reentrant at its await on the cluster
/// (another actor), so the cluster is held until every request is queued there.
enum RequestRace {
    /// Runs `request` for every ID at once, with the cluster held until every request has either finished (was
    /// refused before any await) or holds its VNI claim and waits at the cluster: so the requests all reach
    /// their await on the cluster before any gets past it. Each ID's error, or nil where it succeeded.
    static func run<T: Sendable>(
        _ ids: [String], driver: OverlayDriver, cluster: ClusterState, _ request: @escaping @Sendable (String) async throws(DriverError) -> T
    ) async throws -> [String: DriverError?] {
        let gate = Gate()
        // A thread of this run's own: with one thread shared by the tests that run in parallel, one test's hold
        // kept the next one's from starting, and a test that gave up left its late hold blocking the thread.
        let holder = Task(executorPreference: DedicatedThreadExecutor()) { await cluster.hold(gate) }
        guard await Self.poll({ gate.holding.withLock { $0 } }) else {
            gate.open.withLock { $0 = true }
            await holder.value
            try #require(Bool(false), "the cluster was never held")
            return [:]
        }
        async let results = withTaskGroup(of: (String, DriverError?).self) { group in
            for id in ids {
                group.addTask {
                    defer { gate.finished.withLock { $0 += 1 } }
                    do throws(DriverError) {
                        _ = try await request(id)
                        return (id, nil)
                    } catch {
                        return (id, error)
                    }
                }
            }
            var results: [String: DriverError?] = [:]
            for await (id, error) in group { results[id] = error }
            return results
        }
        // Counting the tasks that started is not enough: on a loaded machine a task can start and not yet have
        // reached the driver when the gate opens, and then runs after the others instead of beside them. The
        // bound is generous because the cluster stays held until then: a task starved of a thread by other
        // tests only makes the race wait, it cannot make it a sequence.
        var arrived = false
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if await driver.networkRequestsInProgress + gate.finished.withLock({ $0 }) == ids.count {
                arrived = true
                break
            }
            try? await Task.sleep(for: .milliseconds(1))
        }
        let heldThroughout = gate.holding.withLock { $0 }
        gate.open.withLock { $0 = true }
        await holder.value
        try #require(arrived, "not every request reached the driver's await on the cluster")
        try #require(heldThroughout, "the cluster's hold ran out before every request arrived: the requests did not race")
        return await results
    }

    static func poll(_ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return condition()
    }
}

/// Opened by the test once the racing requests are all queued.
final class Gate: Sendable {
    let holding = Mutex(false)
    /// Racing requests that have returned.
    let finished = Mutex(0)
    let open = Mutex(false)
}

extension ClusterState {
    /// Keeps this actor busy until the gate opens: every question the driver asks it waits. The 120 s bound only
    /// frees the actor of a test that died; `holding` turns false when the hold ends, so the race can tell that
    /// it ran out (an earlier 10 s bound ran out on a loaded machine, and the "race" became a sequence).
    func hold(_ gate: Gate) {
        gate.holding.withLock { $0 = true }
        let deadline = ContinuousClock.now + .seconds(120)
        while !gate.open.withLock({ $0 }), ContinuousClock.now < deadline { usleep(200) }
        gate.holding.withLock { $0 = false }
    }
}

/// Runs the jobs of tasks that prefer it on a thread of its own, so a test can hold an actor (whose code runs on
/// its caller's preferred executor) without taking one of the few cooperative threads. One per race; the thread
/// stays, idle, for the rest of the test process.
final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let jobs = Mutex<[UnownedJob]>([])
    private let wake = DispatchSemaphore(value: 0)

    init() {
        Thread.detachNewThread { [self] in
            while true {
                wake.wait()
                guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        wake.signal()
    }
}
