import Glibc
import Netlink

/// Loads rulesets with the `nft` program, run inside the namespace (``NamespacedProgram``).
public struct NftRulesetLoader: RulesetLoader {
    public enum LoadError: Error, Sendable, CustomStringConvertible {
        case notInstalled(searched: [String])
        case failed(namespace: String, status: Int32, message: String)
        case cannotRun(namespace: String, error: NetlinkError)

        public var description: String {
            switch self {
            case .notInstalled(let searched): "no nft program (looked for \(searched.joined(separator: ", "))): service VIPs need nftables"
            case .failed(let namespace, let status, let message):
                "nft -f - in \(namespace) exited with \(status): \(message.prefix(500))"
            case .cannotRun(let namespace, let error): "cannot run nft in \(namespace): \(error)"
            }
        }
    }

    public static let searchPath = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft"]
    public let program: String

    /// Finds `nft` (the managed plugin's rootfs carries it in /usr/sbin).
    public init(program: String? = nil) throws(LoadError) {
        if let program {
            self.program = program
            return
        }
        guard let found = Self.searchPath.first(where: { access($0, X_OK) == 0 }) else {
            throw .notInstalled(searched: Self.searchPath)
        }
        self.program = found
    }

    public func load(_ script: String, into namespace: NetworkNamespace) throws {
        let outcome: NamespacedProgram.Outcome
        do { outcome = try NamespacedProgram.run(program, arguments: ["-f", "-"], input: Array(script.utf8), in: namespace) } catch {
            throw LoadError.cannotRun(namespace: namespace.path, error: error)
        }
        guard outcome.status == 0 else {
            throw LoadError.failed(namespace: namespace.path, status: outcome.status, message: outcome.errorOutput)
        }
    }
}

/// Prints the script as the command that would load it (`weft daemon --dry-run`).
public struct PrintingRulesetLoader: RulesetLoader {
    private let output: @Sendable (String) -> Void

    public init(output: @escaping @Sendable (String) -> Void) { self.output = output }

    public func load(_ script: String, into namespace: NetworkNamespace) throws {
        output("nsenter --net=\(namespace.path) nft -f - <<'EOF'\n\(script)EOF")
    }
}
