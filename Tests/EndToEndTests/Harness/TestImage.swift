import Foundation

/// The one container image of the tests: busybox-static's `/bin/busybox` and a symlink per applet the tests
/// use, with an empty world-writable /tmp, made into a tarball once per cluster and loaded into every engine
/// with `docker import` (there is no registry).
enum TestImage {
    static let reference = "weft-e2e/busybox:latest"

    static let applets = [
        "sh", "ash", "ping", "ip", "ifconfig", "route", "arp", "nc", "wget", "sleep", "cat", "echo", "hostname",
        "ls", "ps", "kill", "true", "false", "grep", "sed", "awk", "head", "tail", "wc", "env", "mkdir", "rm",
        "touch", "date", "uname", "id", "timeout", "nslookup", "netstat", "traceroute", "httpd", "udhcpc", "killall",
        "pidof", "arping",
    ]

    /// Builds `<directory>/busybox.tar` from a fresh root file system in `<directory>/rootfs`.
    static func buildTarball(in directory: URL) async throws -> URL {
        let fileManager = FileManager.default
        let rootfs = directory.appendingPathComponent("rootfs")
        let bin = rootfs.appendingPathComponent("bin")
        try fileManager.createDirectory(at: bin, withIntermediateDirectories: true)
        guard fileManager.isExecutableFile(atPath: Tools.busybox) else {
            throw HarnessError("no busybox at \(Tools.busybox) (apt-get install busybox-static)")
        }
        try fileManager.copyItem(atPath: Tools.busybox, toPath: bin.appendingPathComponent("busybox").path)
        for applet in applets {
            try fileManager.createSymbolicLink(
                atPath: bin.appendingPathComponent(applet).path, withDestinationPath: "busybox")
        }
        for name in ["etc", "proc", "sys", "dev", "tmp", "root"] {
            try fileManager.createDirectory(
                at: rootfs.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        try fileManager.setAttributes(
            [.posixPermissions: 0o1777], ofItemAtPath: rootfs.appendingPathComponent("tmp").path)
        try Data("root:x:0:0:root:/root:/bin/sh\n".utf8).write(to: rootfs.appendingPathComponent("etc/passwd"))
        try Data("root:x:0:\n".utf8).write(to: rootfs.appendingPathComponent("etc/group"))
        let tarball = directory.appendingPathComponent("busybox.tar")
        try await Command.output([
            Tools.tar, "--create", "--file", tarball.path, "--directory", rootfs.path,
            "--numeric-owner", "--owner=0", "--group=0", ".",
        ])
        return tarball
    }

    /// Imports the tarball into `host`'s engine as `reference`, and records how long it took.
    static func importInto(_ host: TestHost, tarball: URL) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        try await host.docker(
            ["import", "--change", "CMD [\"/bin/sh\"]", "--change", "ENV PATH=/bin", tarball.path, reference],
            timeout: .seconds(60))
        host.recordImageImport(clock.now - start)
    }
}
