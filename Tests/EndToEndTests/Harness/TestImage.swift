import Foundation
import TestSupport

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

    /// Builds `<directory>/busybox.tar` from a fresh root file system in `<directory>/rootfs`, with each of
    /// `programs` (absolute paths of the machine's binaries, e.g. `/usr/bin/iperf3`) and the libraries `ldd`
    /// names for it copied in at the same paths.
    static func buildTarball(in directory: URL, programs: [String] = []) async throws -> URL {
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
        for program in programs {
            try await copyWithLibraries(program, into: rootfs)
        }
        try Data("root:x:0:0:root:/root:/bin/sh\n".utf8).write(to: rootfs.appendingPathComponent("etc/passwd"))
        try Data("root:x:0:\n".utf8).write(to: rootfs.appendingPathComponent("etc/group"))
        let tarball = directory.appendingPathComponent("busybox.tar")
        try await Command.output([
            Tools.tar, "--create", "--file", tarball.path, "--directory", rootfs.path,
            "--numeric-owner", "--owner=0", "--group=0", ".",
        ])
        return tarball
    }

    /// Imports the tarball into `host`'s engine as `reference` (or `name`), and records how long it took.
    static func importInto(_ host: TestHost, tarball: URL, as name: String = reference) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        try await host.docker(
            ["import", "--change", "CMD [\"/bin/sh\"]", "--change", "ENV PATH=/bin:/usr/bin", tarball.path, name],
            timeout: .seconds(60))
        if name == reference { host.recordImageImport(clock.now - start) }
    }

    /// The test image plus iperf3 (`weft-e2e/iperf3:latest`), for the datapath benchmark: built into
    /// `directory` and imported into `hosts`.
    static let iperf3Reference = "weft-e2e/iperf3:latest"

    static func importIperf3Image(into hosts: [TestHost], directory: URL) async throws {
        let tarball = try await buildTarball(in: directory, programs: [Tools.path("iperf3")])
        for host in hosts { try await importInto(host, tarball: tarball, as: iperf3Reference) }
    }

    /// Copies `program` and every library `ldd` lists for it (the loader too) to the same paths under `rootfs`.
    private static func copyWithLibraries(_ program: String, into rootfs: URL) async throws {
        guard program.hasPrefix("/"), FileManager.default.isExecutableFile(atPath: program) else {
            throw HarnessError("no program at \(program) (is its package installed? `make deps`)")
        }
        let listing = try await Command.output([Tools.path("ldd"), program])
        var files = [program]
        for line in listing.split(separator: "\n") {
            // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)` or `/lib64/ld-linux-x86-64.so.2 (0x…)`.
            let words = line.split(separator: " ").map { $0.trimmingCharacters(in: .whitespaces) }
            if let arrow = words.firstIndex(of: "=>"), arrow + 1 < words.count, words[arrow + 1].hasPrefix("/") {
                files.append(words[arrow + 1])
            } else if let first = words.first, first.hasPrefix("/") {
                files.append(first)
            }
        }
        for file in files {
            let target = rootfs.appendingPathComponent(String(file.dropFirst()))
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            if FileManager.default.fileExists(atPath: target.path) { continue }
            // Copy what a symlink points at, so the image holds the file itself.
            let resolved = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
            try FileManager.default.copyItem(atPath: resolved, toPath: target.path)
        }
    }
}
