import Foundation
import Glibc

/// What a cluster must not leave behind, and the scan that proves it: no network namespace of the run, no
/// process in its cgroups, no cgroup directory, no mount that names the run (in any mount namespace on the
/// machine: the scan reads every process's mountinfo), no run directory.
///
/// "No process in the run's namespaces" is checked by the teardown itself, while it still pins them: after
/// that a namespace's inode number may already belong to a new namespace of someone else (this happened: a
/// kill by a stale ID hit another cluster's `docker-untar`).
struct ClusterIdentity: Sendable {
    /// `we2e-<pid>-<random>`: the prefix of every name the run gives (namespaces, cgroups, mounts, files).
    let runID: String
    let directory: URL
    let namespaceNames: [String]
    let cgroups: [HostCgroup]
}

enum Leftovers {
    /// Everything of the run that still exists, as readable lines; empty when the teardown was complete.
    static func scan(_ identity: ClusterIdentity) -> [String] {
        var found: [String] = []
        let fileManager = FileManager.default
        if let listed = try? fileManager.contentsOfDirectory(atPath: "/run/netns") {
            for name in listed where name.hasPrefix(identity.runID) {
                found.append("network namespace /run/netns/\(name)")
            }
        }
        for cgroup in identity.cgroups {
            for pid in cgroup.pids().sorted() {
                found.append("process \(pid) (\(command(of: pid))) in cgroup \(cgroup.name)")
            }
            for directory in cgroup.existingDirectories() {
                found.append("cgroup directory \(directory)")
            }
        }
        found.append(contentsOf: mounts(naming: identity.runID).map { "mount \($0)" })
        if fileManager.fileExists(atPath: identity.directory.path) {
            found.append("directory \(identity.directory.path)")
        }
        return found
    }

    /// Mounts whose mountinfo line contains `text`, across every process's mount namespace (deduplicated).
    static func mounts(naming text: String) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var seen = Set<String>()
        var result: [String] = []
        for entry in entries {
            guard let pid = pid_t(entry),
                let mountinfo = try? String(contentsOfFile: "/proc/\(pid)/mountinfo", encoding: .utf8)
            else { continue }
            for line in mountinfo.split(separator: "\n") where line.contains(text) {
                let fields = line.split(separator: " ")
                let description = fields.count > 4 ? "\(fields[4]) (seen by pid \(pid))" : String(line)
                let key = fields.count > 4 ? String(fields[4]) : String(line)
                if seen.insert(key).inserted { result.append(description) }
            }
        }
        return result
    }

    static func command(of pid: pid_t) -> String {
        let raw = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
        return raw.split(separator: "\0").prefix(4).joined(separator: " ")
    }
}
