import CShim
import Glibc

/// Runs work on a fresh OS thread that has entered a network namespace.
///
/// A namespace switch (`setns`, `unshare`) applies to the calling thread only, and Swift tasks hop between
/// pool threads, so namespace-bound work never runs on the concurrency pool: it runs here, on a thread that
/// exits afterwards, taking its namespace membership with it. Sockets created here stay bound to the
/// namespace and can be used from any thread.
enum NamespaceThread {
    /// How the thread enters its namespace before running the work.
    enum Entry {
        /// Stay in the process's namespace.
        case none
        /// `setns` into the namespace open at this descriptor.
        case join(fd: Int32)
        /// `unshare` into a brand-new namespace.
        case createNew
    }

    fileprivate final class Job<T>: @unchecked Sendable {
        let entry: Entry
        let work: () throws(NetlinkError) -> T
        var result: Result<T, NetlinkError>?

        init(entry: Entry, work: @escaping () throws(NetlinkError) -> T) {
            self.entry = entry
            self.work = work
        }

        func run() {
            switch entry {
            case .none:
                break
            case .join(let fd):
                if cshim_setns_net(fd) != 0 {
                    result = .failure(.namespace(path: "fd \(fd)", action: "enter it", errno: Glibc.errno))
                    return
                }
            case .createNew:
                if cshim_unshare_net() != 0 {
                    result = .failure(.namespace(path: "(new)", action: "create it", errno: Glibc.errno))
                    return
                }
            }
            do throws(NetlinkError) { result = .success(try work()) } catch { result = .failure(error) }
        }
    }

    /// Runs `work` on a new thread after entering `entry`, waits for it, and returns its result.
    static func run<T>(_ entry: Entry, _ work: @escaping () throws(NetlinkError) -> T) throws(NetlinkError) -> T {
        let job = Job(entry: entry, work: work)
        let context = Unmanaged.passRetained(job as AnyObject).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { context in
                let job = Unmanaged<AnyObject>.fromOpaque(context!).takeRetainedValue()
                (job as! any JobRunnable).runJob()
                return nil
            }, context)
        guard created == 0 else {
            Unmanaged<AnyObject>.fromOpaque(context).release()
            throw .namespace(path: "(thread)", action: "start a thread for it", errno: created)
        }
        pthread_join(thread, nil)
        guard let result = job.result else {
            throw .namespace(path: "(thread)", action: "finish namespace work", errno: EIO)
        }
        return try result.get()
    }
}

private protocol JobRunnable { func runJob() }

extension NamespaceThread.Job: JobRunnable {
    func runJob() { run() }
}
