import Foundation
import Glibc
import Netlink

/// Kernel tests need root; under `make test` (WEFT_REQUIRE_ROOT_TESTS=1) a missing root is a failure, not a skip.
public enum Privileges {
    public static let isRoot = geteuid() == 0
    public static let rootRequired = ProcessInfo.processInfo.environment["WEFT_REQUIRE_ROOT_TESTS"] == "1"
    public static let canRunKernelTests = isRoot || rootRequired
}

/// Throwaway namespaces under /run/netns with unique names, removed when the body ends, also on failure.
public enum TestNamespaces {
    public static func uniqueName(_ purpose: String) -> String {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return "wt-\(purpose)-\(suffix)"
    }

    /// Creates `count` namespaces, runs `body` with them, then deletes them whatever happened.
    public static func with<T>(
        _ purpose: String, count: Int = 1, _ body: ([NetworkNamespace]) throws -> T
    ) throws -> T {
        let backend = KernelBackend()
        var created: [NetworkNamespace] = []
        defer {
            for namespace in created { try? backend.deleteNamespace(namespace.reference) }
        }
        for _ in 0..<count {
            created.append(try backend.createNamespace(.named(uniqueName(purpose))))
        }
        return try body(created)
    }
}
