import Foundation
import Glibc

/// Where tests find the programs they run: one lookup for every suite.
///
/// Tools are looked up in the system directories only, never in `/usr/local`: a machine may carry a newer
/// `docker` CLI there, and the tests are about Debian's packages (docker.io 20.10 among them).
public enum Executables {
    public static let systemDirectories = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    /// The absolute path of a system tool, or the bare name (so a failure names it) when it is missing.
    /// A path with a `/` is returned as it is.
    public static func path(_ name: String) -> String {
        guard !name.contains("/") else { return name }
        for directory in systemDirectories {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return name
    }

    /// Whether `name` (a path, or a tool in the system directories) is installed and executable.
    public static func isInstalled(_ name: String) -> Bool {
        access(path(name), X_OK) == 0 && path(name).contains("/")
    }

    /// The `weft` executable: `$WEFT_BINARY` if set, else the one built next to this test bundle (the same
    /// build directory, whatever `--build-path` was), else `<package root>/.build/debug/weft`.
    public static var weft: String {
        if let explicit = ProcessInfo.processInfo.environment["WEFT_BINARY"], !explicit.isEmpty {
            return explicit
        }
        var candidates: [String] = []
        if let executable = Bundle.main.executableURL {
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent("weft").path)
        }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("weft").path)
        candidates.append(packageRoot.appendingPathComponent(".build/debug/weft").path)
        return candidates.first { access($0, X_OK) == 0 } ?? candidates.last!
    }

    /// Whether a `weft` executable is built (tests that run it are skipped, or fail, without one).
    public static var weftIsBuilt: Bool { access(weft, X_OK) == 0 }

    /// The package's root directory: `<root>/Tests/TestSupport/Executables.swift` → `<root>`.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
