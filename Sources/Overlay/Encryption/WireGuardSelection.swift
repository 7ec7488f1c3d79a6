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

    /// What weft cannot do yet with a kernel that has WireGuard.
    static let kernelDatapathMissing =
        "weft's kernel WireGuard datapath is not built yet (its set-device messages are; reading peers' handshakes over WG_CMD_GET_DEVICE is not)"

    /// The backend for `requested` on a host with `capabilities`.
    public static func choose(_ requested: WireGuardBackendKind, capabilities: Capabilities) -> WireGuardSelection {
        let userspaceProblem: String? =
            capabilities.userspaceTool == nil ? "wireguard-go is not installed (apt-get install wireguard-go)"
            : capabilities.tunDevice ? nil : "/dev/net/tun is missing or not writable"
        let kernel: String =
            switch capabilities.kernel {
            case .resolved(let id): "the kernel has WireGuard (generic netlink family id \(id)), but \(kernelDatapathMissing)"
            case .unavailable(let reason): reason
            }
        switch requested {
        case .dryRun:
            return .chosen(.dryRun, note: "dry run: WireGuard changes are printed as wg set commands")
        case .kernel:
            return .unavailable(reason: "--wireguard kernel: \(kernel)")
        case .userspace:
            if let userspaceProblem { return .unavailable(reason: "--wireguard userspace: \(userspaceProblem)") }
            return .chosen(.userspace, note: "wireguard-go, as requested")
        case .auto:
            if let userspaceProblem { return .unavailable(reason: "\(kernel), and \(userspaceProblem)") }
            return .chosen(.userspace, note: "\(kernel): wireguard-go")
        }
    }

    public var description: String {
        switch self {
        case .chosen(let kind, let note): "\(kind) (\(note))"
        case .unavailable(let reason): "none: \(reason)"
        }
    }
}
