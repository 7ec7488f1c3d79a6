import Glibc
import Netlink

/// Which WireGuard this host would use (`--wireguard auto|userspace|kernel`), decided from what it has: the
/// kernel's module, or Debian's `wireguard-go` and a TUN device. weft says which, and why not when none.
public enum WireGuardSelection: Sendable, Equatable, CustomStringConvertible {
    case chosen(WireGuardBackendKind, note: String)
    case unavailable(reason: String)

    /// What the host offers.
    public struct Capabilities: Sendable, Equatable {
        /// The kernel's WireGuard: its generic-netlink family resolved, or why not.
        public var kernel: WireGuardFamily.Resolution
        /// The path of `wireguard-go`, nil when it is not installed.
        public var userspaceTool: String?
        public var tunDevice: Bool

        public init(kernel: WireGuardFamily.Resolution, userspaceTool: String?, tunDevice: Bool) {
            self.kernel = kernel
            self.userspaceTool = userspaceTool
            self.tunDevice = tunDevice
        }

        /// This machine's: the family `wireguard` asked of the kernel, `wireguard-go` in the usual directories,
        /// `/dev/net/tun`.
        public static func detect(namespace: NetworkNamespace? = nil) -> Capabilities {
            let tool = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"]
                .map { $0 + "/wireguard-go" }.first { access($0, X_OK) == 0 }
            return Capabilities(
                kernel: WireGuardFamily.resolve(namespace: namespace), userspaceTool: tool,
                tunDevice: access("/dev/net/tun", R_OK | W_OK) == 0)
        }
    }

    /// The backend for `requested` on a host with `capabilities`: `auto` takes the kernel's WireGuard whenever
    /// its family resolves, else wireguard-go, and says why.
    public static func choose(_ requested: WireGuardBackendKind, capabilities: Capabilities) -> WireGuardSelection {
        let userspaceProblem: String? =
            capabilities.userspaceTool == nil ? "wireguard-go is not installed (apt-get install wireguard-go)"
            : capabilities.tunDevice ? nil : "/dev/net/tun is missing or not writable"
        switch (requested, capabilities.kernel) {
        case (.dryRun, _):
            return .chosen(.dryRun, note: "dry run: WireGuard changes are printed as wg set commands")
        case (.kernel, .resolved(let id)):
            return .chosen(.kernel, note: "the kernel's WireGuard (generic netlink family id \(id)), as requested")
        case (.kernel, .unavailable(let reason)):
            return .unavailable(reason: "--wireguard kernel: \(reason)")
        case (.userspace, _):
            if let userspaceProblem { return .unavailable(reason: "--wireguard userspace: \(userspaceProblem)") }
            return .chosen(.userspace, note: "wireguard-go, as requested")
        case (.auto, .resolved(let id)):
            return .chosen(.kernel, note: "the kernel has WireGuard (generic netlink family id \(id))")
        case (.auto, .unavailable(let reason)):
            if let userspaceProblem { return .unavailable(reason: "\(reason), and \(userspaceProblem)") }
            return .chosen(.userspace, note: "\(reason): wireguard-go")
        }
    }

    public var description: String {
        switch self {
        case .chosen(let kind, let note): "\(kind) (\(note))"
        case .unavailable(let reason): "none: \(reason)"
        }
    }
}
