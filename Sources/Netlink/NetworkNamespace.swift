import Glibc

/// How to find a network namespace.
public enum NamespaceReference: Hashable, Sendable, CustomStringConvertible {
    /// The namespace the process started in.
    case current
    /// A namespace bind-mounted under `/run/netns` (the `ip netns` convention).
    case named(String)
    /// A namespace bind-mounted at any path (weft keeps its own under its runtime directory).
    case path(String)

    /// The directory `ip netns` uses.
    public static let ipNetnsDirectory = "/run/netns"

    public var path: String {
        switch self {
        case .current: "/proc/self/ns/net"
        case .named(let name): "\(Self.ipNetnsDirectory)/\(name)"
        case .path(let path): path
        }
    }

    public var description: String {
        switch self {
        case .current: "current"
        case .named(let name): name
        case .path(let path): path
        }
    }
}

/// An open network namespace. The descriptor stays open as long as the value lives, so the namespace can
/// be entered, and links moved into it, by descriptor.
public final class NetworkNamespace: Sendable, CustomStringConvertible {
    public let reference: NamespaceReference
    /// The open descriptor (a placeholder number in dry-run mode, where no namespace exists).
    public let fd: Int32
    private let ownsDescriptor: Bool

    init(reference: NamespaceReference, fd: Int32, ownsDescriptor: Bool) {
        self.reference = reference
        self.fd = fd
        self.ownsDescriptor = ownsDescriptor
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    public var path: String { reference.path }

    /// The name iproute2 knows it by (`ip -n NAME`), when it lives in `/run/netns`.
    public var ipNetnsName: String? {
        switch reference {
        case .named(let name): return name
        case .path(let path):
            let prefix = NamespaceReference.ipNetnsDirectory + "/"
            guard path.hasPrefix(prefix) else { return nil }
            let name = String(path.dropFirst(prefix.count))
            return name.contains("/") ? nil : name
        case .current: return nil
        }
    }

    public var description: String { "namespace \(reference)" }
}
