import Foundation
import Glibc

/// The cgroup subtree that holds everything of one simulated host: its namespace holder, dockerd and the
/// containerd, shims and weft processes started from it (in `<name>/host`), and its containers (dockerd runs
/// with `--cgroup-parent /<name>`, so they land in `<name>/<container id>`). Teardown kills the whole
/// subtree, which catches what a pid list would miss: containerd-shim processes re-parent themselves to init,
/// and container processes live in pid namespaces of their own.
///
/// The subtree is made in the cgroup v2 hierarchy (on a hybrid machine `/sys/fs/cgroup/unified`, which
/// tracks processes without controllers) and, because dockerd's cgroupfs driver creates `/<name>/<id>` in
/// every v1 hierarchy as well, teardown removes the directory from every mounted hierarchy.
struct HostCgroup: Sendable {
    /// The directory name, the same in every hierarchy, e.g. `we2e-1234-k3x9-h1`.
    let name: String

    /// Mount points of every cgroup hierarchy (v1 and v2).
    static var hierarchies: [String] {
        guard let mountinfo = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        var result: [String] = []
        for line in mountinfo.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let fstype = halves[1].split(separator: " ").first.map(String.init) ?? ""
            guard fstype == "cgroup" || fstype == "cgroup2" else { continue }
            let fields = halves[0].split(separator: " ")
            if fields.count > 4 { result.append(String(fields[4])) }
        }
        return result
    }

    /// The hierarchy processes are tracked in: the cgroup v2 one if mounted, else the v1 `pids` one.
    static var trackingHierarchy: String? {
        guard let mountinfo = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        var pids: String?
        for line in mountinfo.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let tail = halves[1].split(separator: " ")
            let point = halves[0].split(separator: " ").dropFirst(4).first.map(String.init)
            if tail.first == "cgroup2", let point { return point }
            if tail.first == "cgroup", tail.count > 2, tail[2].split(separator: ",").contains("pids") { pids = point }
        }
        return pids
    }

    /// `/<name>`, as dockerd's `--cgroup-parent`.
    var dockerCgroupParent: String { "/\(name)" }

    /// The `cgroup.procs` file a process writes its pid to, to join the host (before it execs).
    var procsFile: String {
        "\(Self.trackingHierarchy ?? "/sys/fs/cgroup")/\(name)/host/cgroup.procs"
    }

    func create() throws {
        guard let tracking = Self.trackingHierarchy else {
            throw HarnessError("no cgroup v2 or v1 pids hierarchy is mounted; cannot track a host's processes")
        }
        let directory = "\(tracking)/\(name)/host"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw HarnessError("cannot create cgroup \(directory): \(error)")
        }
    }

    /// Every pid in the subtree, in any hierarchy.
    func pids() -> Set<pid_t> {
        var result = Set<pid_t>()
        for hierarchy in Self.hierarchies {
            for directory in Self.subtree("\(hierarchy)/\(name)") {
                guard let text = try? String(contentsOfFile: "\(directory)/cgroup.procs", encoding: .utf8) else {
                    continue
                }
                for line in text.split(separator: "\n") {
                    if let pid = pid_t(line) { result.insert(pid) }
                }
            }
        }
        return result
    }

    /// Every directory of the subtree that exists, in any hierarchy (for leftover checks).
    func existingDirectories() -> [String] {
        Self.hierarchies.map { "\($0)/\(name)" }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// SIGKILLs every process in the subtree (through `cgroup.kill` where the kernel has it, and pid by pid
    /// in every hierarchy), until none is left or `timeout` passes. Returns the pids still there.
    func killAll(timeout: Duration = .seconds(10)) async -> Set<pid_t> {
        if let tracking = Self.trackingHierarchy {
            let killFile = "\(tracking)/\(name)/cgroup.kill"
            if FileManager.default.fileExists(atPath: killFile) {
                try? "1".write(toFile: killFile, atomically: false, encoding: .utf8)
            }
        }
        var remaining = Set<pid_t>()
        _ = await Poll.succeeded(timeout: timeout) {
            remaining = self.pids()
            for pid in remaining { kill(pid, SIGKILL) }
            return remaining.isEmpty
        }
        return remaining
    }

    /// Removes the subtree's directories in every hierarchy, deepest first (a cgroup can only be removed once
    /// it has no processes and no children; a just-killed process may take a moment to leave). Returns the
    /// directories that would not go.
    func remove(timeout: Duration = .seconds(5)) async -> [String] {
        var stubborn: [String] = []
        _ = await Poll.succeeded(timeout: timeout) {
            stubborn = []
            for hierarchy in Self.hierarchies {
                for directory in Self.subtree("\(hierarchy)/\(name)").reversed() where rmdir(directory) != 0 {
                    if errno != ENOENT { stubborn.append(directory) }
                }
            }
            return stubborn.isEmpty
        }
        return stubborn
    }

    /// `root` and every directory below it, parents before children.
    private static func subtree(_ root: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            return []
        }
        var result = [root]
        var index = 0
        while index < result.count {
            let directory = result[index]
            index += 1
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for entry in entries.sorted() {
                let path = "\(directory)/\(entry)"
                var entryIsDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &entryIsDirectory),
                    entryIsDirectory.boolValue
                {
                    result.append(path)
                }
            }
        }
        return result
    }
}
