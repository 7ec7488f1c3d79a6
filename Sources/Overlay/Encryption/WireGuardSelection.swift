import Glibc

/// Which WireGuard this host would use (`--wireguard auto|userspace|kernel`), decided from what it has: the
/// kernel's module, or Debian's `wireguard-go` and a TUN device. weft says which, and why not when none.
public enum WireGuardSelection: Sendable, Equatable, CustomStringConvertible {
    case chosen(WireGuardBackendKind, note: String)
    case unavailable(reason: String)

    /// What the host offers.
    public struct Capabilities: Sendable, Equatable {
        public var kernelModule: Bool
        /// The path of `wireguard-go`, nil when it is not installed.
        public var userspaceTool: String?
        public var tunDevice: Bool

        public init(kernelModule: Bool, userspaceTool: String?, tunDevice: Bool) {
            self.kernelModule = kernelModule
            self.userspaceTool = userspaceTool
            self.tunDevice = tunDevice
        }

        /// This machine's: `/sys/module/wireguard`, `wireguard-go` in the usual directories, `/dev/net/tun`.
        public static func detect() -> Capabilities {
            let tool = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"]
                .map { $0 + "/wireguard-go" }.first { access($0, X_OK) == 0 }
            return Capabilities(
                kernelModule: access("/sys/module/wireguard", F_OK) == 0, userspaceTool: tool,
                tunDevice: access("/dev/net/tun", R_OK | W_OK) == 0)
        }
    }

    /// The backend for `requested` on a host with `capabilities`.
    public static func choose(_ requested: WireGuardBackendKind, capabilities: Capabilities) -> WireGuardSelection {
        let userspaceProblem: String? =
            capabilities.userspaceTool == nil ? "wireguard-go is not installed (apt-get install wireguard-go)"
            : capabilities.tunDevice ? nil : "/dev/net/tun is missing or not writable"
        switch requested {
        case .dryRun:
            return .chosen(.dryRun, note: "dry run: WireGuard changes are printed as wg set commands")
        case .kernel:
            guard capabilities.kernelModule else {
                return .unavailable(reason: "--wireguard kernel: this kernel has no WireGuard module (modprobe wireguard)")
            }
            return .unavailable(reason: "--wireguard kernel: weft's generic-netlink WireGuard backend is not built yet; use --wireguard userspace")
        case .userspace:
            if let userspaceProblem { return .unavailable(reason: "--wireguard userspace: \(userspaceProblem)") }
            return .chosen(.userspace, note: "wireguard-go, as requested")
        case .auto:
            if let userspaceProblem {
                let kernel = capabilities.kernelModule ? "the kernel has WireGuard but weft's kernel backend is not built yet" : "the kernel has no WireGuard module"
                return .unavailable(reason: "\(kernel), and \(userspaceProblem)")
            }
            return .chosen(.userspace, note: capabilities.kernelModule
                ? "the kernel has WireGuard, but weft's kernel backend is not built yet: wireguard-go"
                : "the kernel has no WireGuard module: wireguard-go")
        }
    }

    public var description: String {
        switch self {
        case .chosen(let kind, let note): "\(kind) (\(note))"
        case .unavailable(let reason): "none: \(reason)"
        }
    }
}
