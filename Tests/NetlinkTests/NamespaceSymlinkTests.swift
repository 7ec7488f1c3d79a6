import Foundation
import Glibc
import Netlink
import TestSupport
import Testing

/// Where weft keeps its namespaces, nothing is followed: a symbolic link planted where a namespace belongs is
/// removed as a link (never unmounted through, never opened as a namespace), and what it points at survives.
struct NamespaceSymlinkTests {
    let backend = KernelBackend()

    /// A temporary directory holding an empty `netns` directory, removed with all it holds after `body`.
    func withNamespaceDirectory(_ body: (String) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            try FileManager.default.createDirectory(atPath: directory + "/netns", withIntermediateDirectories: true)
            try await body(directory)
        }
    }

    @Test("a symbolic link to a file: not opened, removed as a link; the file survives. A directory is left alone")
    func symlinkToAFileAndADirectory() async throws {
        try await withNamespaceDirectory { directory in
            let victim = directory + "/victim"
            try "keep".write(toFile: victim, atomically: true, encoding: .utf8)
            let path = directory + "/netns/00002a"
            let reference = NamespaceReference.path(path)
            #expect(symlink(victim, path) == 0)

            #expect(backend.namespaceExists(reference))
            #expect(throws: NetlinkError.namespace(path: path, action: "open it (a symbolic link, not followed)", errno: ELOOP)) {
                _ = try backend.openNamespace(reference)
            }
            try backend.deleteNamespace(reference)
            #expect(!backend.namespaceExists(reference))
            #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep")

            // A dangling link exists (it is not followed) and goes the same way.
            #expect(symlink(directory + "/nothing", path) == 0)
            #expect(backend.namespaceExists(reference))
            try backend.deleteNamespace(reference)
            #expect(!backend.namespaceExists(reference))

            // A directory is not a namespace mount point: refused, left as it is.
            try FileManager.default.createDirectory(atPath: path + "/inside", withIntermediateDirectories: true)
            #expect(throws: NetlinkError.namespace(path: path, action: "remove it (not a namespace mount point)", errno: EINVAL)) {
                try backend.deleteNamespace(reference)
            }
            #expect(FileManager.default.fileExists(atPath: path + "/inside"))
        }
    }

    @Test("a namespace directory that is a symbolic link is not listed, so nothing behind it is cleaned up")
    func symlinkedDirectoryIsNotListed() async throws {
        try await withNamespaceDirectory { directory in
            try "keep".write(toFile: directory + "/netns/00002a", atomically: true, encoding: .utf8)
            #expect(backend.namespaces(in: directory + "/netns") == [.path(directory + "/netns/00002a")])
            #expect(symlink(directory + "/netns", directory + "/linked") == 0)
            #expect(backend.namespaces(in: directory + "/linked") == [])
            #expect(backend.namespaces(in: directory + "/missing") == [])
        }
    }

    @Test(
        "a symbolic link to a mounted namespace: the link goes, the namespace stays mounted",
        .enabled(if: Privileges.canRunKernelTests, "needs root for network namespaces"))
    func symlinkToAMountedNamespace() async throws {
        try await withNamespaceDirectory { directory in
            try TestNamespaces.with("lnk") { namespaces in
                let target = namespaces[0].path
                try backend.session(in: namespaces[0]).perform(.createLink(LinkSpec(name: "br-kept", kind: .bridge)))
                let path = directory + "/netns/00002b"
                #expect(symlink(target, path) == 0)
                try backend.deleteNamespace(.path(path))
                #expect(!backend.namespaceExists(.path(path)))
                let mounts = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
                #expect(mounts.contains(" \(target) "), "the namespace behind the link was unmounted")
                #expect(try backend.session(in: namespaces[0].reference).link("br-kept") != nil)
            }
        }
    }
}
