import Foundation
import Testing
import TestSupport

/// The systemd unit for the socket plugin: least privilege, and nothing that would give weft a mount
/// namespace of its own (its network namespaces under /run/weft/netns must be the host's).
struct SystemdUnitTests {
    static let unitPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../plugin-spec/weft.service").standardizedFileURL.path

    /// The unit's `Key=value` settings, comments and section headers left out.
    static func settings() throws -> [(key: String, value: String)] {
        try String(contentsOfFile: unitPath, encoding: .utf8).split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), !line.hasPrefix("["), let equals = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<equals]), String(line[line.index(after: equals)...]))
        }
    }

    @Test func onlyTheCapabilitiesAndSocketsWeftUses() throws {
        let settings = try Self.settings()
        func value(_ key: String) -> [String] { settings.filter { $0.key == key }.map(\.value) }
        #expect(value("CapabilityBoundingSet") == ["CAP_NET_ADMIN CAP_SYS_ADMIN CAP_NET_RAW"])
        #expect(value("NoNewPrivileges") == ["yes"])
        #expect(value("RestrictAddressFamilies") == ["AF_UNIX AF_NETLINK AF_INET AF_INET6 AF_PACKET"])
        #expect(value("AmbientCapabilities").isEmpty && value("User").isEmpty, "weft runs as root")
        #expect(value("EnvironmentFile") == ["-/etc/default/weft"])
        for hiding in ["PrivateTmp", "ProtectSystem", "ProtectHome", "PrivateDevices", "PrivateMounts", "MountFlags",
                       "TemporaryFileSystem", "RootDirectory", "InaccessiblePaths", "ReadOnlyPaths", "ProtectKernelModules"] {
            #expect(value(hiding).isEmpty, "\(hiding) would give weft its own mount namespace")
        }
    }

    /// `systemd-analyze verify` on the unit (its ExecStart pointed at an executable that exists here): no
    /// complaint, such as an unknown capability or address family.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "systemd-analyze is not installed"))
    func systemdAcceptsTheUnit() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weft-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let unit = directory.appendingPathComponent("weft.service")
        let text = try String(contentsOfFile: Self.unitPath, encoding: .utf8)
            .replacingOccurrences(of: "ExecStart=/usr/local/bin/weft ", with: "ExecStart=/bin/true ")
        try text.write(to: unit, atomically: true, encoding: .utf8)

        let verified = try await Command.run(["/usr/bin/systemd-analyze", "verify", unit.path], timeout: .seconds(60))
        #expect(verified.succeeded)
        #expect((verified.stdout + verified.stderr).isEmpty, "systemd-analyze verify: \(verified.stdout)\(verified.stderr)")
    }
}
