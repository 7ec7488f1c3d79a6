import Glibc

/// Runs a program inside a network namespace: the child is spawned from a thread that has entered the
/// namespace, so it starts there (a child inherits its parent thread's namespaces). Used to load nftables
/// rulesets into weft's namespaces with `nft -f -`, which has no namespace option of its own.
public enum NamespacedProgram {
    /// How the program ended: its exit status (or 128 + the signal) and the start of its standard error.
    public struct Outcome: Sendable, Equatable {
        public let status: Int32
        public let errorOutput: String
    }

    /// Standard error kept from the program, at most.
    public static let errorOutputLimit = 16_384

    /// Runs `executable` with `arguments` in `namespace` (nil: weft's own), `input` on its standard input,
    /// its standard output discarded, and waits for it.
    public static func run(
        _ executable: String, arguments: [String], input: [UInt8], in namespace: NetworkNamespace?
    ) throws(NetlinkError) -> Outcome {
        let entry: NamespaceThread.Entry = namespace.map { .join(fd: $0.fd) } ?? .none
        let place = namespace?.path ?? "(current)"
        return try NamespaceThread.run(entry) { () throws(NetlinkError) -> Outcome in
            try spawnAndWait(executable, arguments: arguments, input: input, place: place)
        }
    }

    /// A pipe whose ends no other child inherits (`pipe2` needs `_GNU_SOURCE`, which Swift's Glibc lacks).
    private static func closeOnExecPipe(_ ends: inout [Int32]) -> Bool {
        guard pipe(&ends) == 0 else { return false }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return true
    }

    private static func spawnAndWait(
        _ executable: String, arguments: [String], input: [UInt8], place: String
    ) throws(NetlinkError) -> Outcome {
        var stdinPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard closeOnExecPipe(&stdinPipe) else { throw .namespace(path: place, action: "make a pipe for \(executable)", errno: errno) }
        guard closeOnExecPipe(&stderrPipe) else {
            let code = errno
            close(stdinPipe[0]); close(stdinPipe[1])
            throw .namespace(path: place, action: "make a pipe for \(executable)", errno: code)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)

        let argv = ([executable] + arguments).map { strdup($0) }
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let spawned = (argv + [nil]).withUnsafeBufferPointer { pointers in
            posix_spawn(&child, executable, &actions, nil, UnsafeMutablePointer(mutating: pointers.baseAddress!), environ)
        }
        close(stdinPipe[0])
        close(stderrPipe[1])
        guard spawned == 0 else {
            close(stdinPipe[1]); close(stderrPipe[0])
            throw .namespace(path: place, action: "run \(executable)", errno: spawned)
        }
        // SIGPIPE would end weft if the program exits before reading everything; the write then fails with EPIPE.
        signal(SIGPIPE, SIG_IGN)
        input.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let count = write(stdinPipe[1], raw.baseAddress! + offset, raw.count - offset)
                if count < 0, errno == EINTR { continue }
                if count <= 0 { break }
                offset += count
            }
        }
        close(stdinPipe[1])
        var collected: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(stderrPipe[0], $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            if collected.count < errorOutputLimit { collected += chunk[0..<min(count, errorOutputLimit - collected.count)] }
        }
        close(stderrPipe[0])
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(status: exitCode, errorOutput: String(decoding: collected, as: UTF8.self))
    }
}
