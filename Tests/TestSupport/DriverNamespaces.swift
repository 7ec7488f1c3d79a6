import Foundation
import Netlink

/// The namespaces of a driver under test on the real kernel, unique to one test: a named namespace standing for
/// the host, named ones for containers, and a runtime directory of the test's for the networks' namespaces.
public struct DriverNamespaces: Sendable {
    /// The prefix of every name here, `wt-<purpose>-<random>`.
    public let tag: String
    /// Where the driver makes the networks' namespaces: `/run/<tag>/netns`.
    public let directory: String
    /// The named namespace (`ip netns`) that stands for the host: `<tag>-h`.
    public let host: String
    /// The named namespaces for containers, `<tag>-<suffix>` in the order of the suffixes asked for.
    public let containers: [String]

    /// The name `ip -n` knows the network namespace `name` of ``directory`` by.
    public func network(_ name: String) -> String { "../\(tag)/netns/\(name)" }

    /// Creates the host and container namespaces and the directory, runs `body`, then removes everything, also
    /// when `body` fails: the processes left in the named namespaces, the named namespaces, the namespaces the
    /// driver made in the directory, the directory's mount and the directory.
    public static func with<T>(
        _ purpose: String, containers suffixes: [String] = [], _ body: (DriverNamespaces) async throws -> T
    ) async throws -> T {
        let tag = TestNamespaces.uniqueName(purpose)
        let namespaces = DriverNamespaces(
            tag: tag, directory: "/run/\(tag)/netns", host: "\(tag)-h", containers: suffixes.map { "\(tag)-\($0)" })
        let backend = KernelBackend()
        let named = [namespaces.host] + namespaces.containers
        defer {
            for name in named {
                if let pids = try? Shell.run(["ip", "netns", "pids", name]) {
                    for pid in pids.split(separator: "\n") { _ = try? Shell.run(["kill", String(pid)]) }
                }
                _ = try? Shell.run(["ip", "netns", "del", name])
            }
            for file in (try? FileManager.default.contentsOfDirectory(atPath: namespaces.directory)) ?? [] {
                try? backend.deleteNamespace(.path("\(namespaces.directory)/\(file)"))
            }
            _ = try? Shell.run(["umount", "-l", namespaces.directory])
            try? FileManager.default.removeItem(atPath: "/run/\(tag)")
        }
        for name in named { _ = try backend.createNamespace(.named(name)) }
        try FileManager.default.createDirectory(atPath: namespaces.directory, withIntermediateDirectories: true)
        return try await body(namespaces)
    }
}
