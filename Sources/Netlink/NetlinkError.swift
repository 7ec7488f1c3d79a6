import Glibc

/// What can go wrong talking to the kernel. Every case that comes from a request names the object it was
/// about, so a message reaching a user reads like "vxlan wvx-00002a: File exists".
public enum NetlinkError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The object already exists (`EEXIST`) and the request asked for exclusive creation.
    case alreadyExists(object: String, kernelMessage: String?)
    /// The object, or a link it refers to, is not there (`ENOENT`, `ENODEV`, `ESRCH`).
    case notFound(object: String, kernelMessage: String?)
    /// The kernel refused the request for another reason.
    case rejected(object: String, errno: Int32, kernelMessage: String?)
    /// A link named in an operation does not exist in the namespace.
    case unknownLink(name: String, namespace: String)
    /// The operation cannot be encoded (an invalid name, an unresolved reference).
    case invalidOperation(object: String, reason: String)
    /// A namespace could not be created, opened, entered or deleted.
    case namespace(path: String, action: String, errno: Int32)
    /// The netlink socket itself failed.
    case socket(action: String, errno: Int32)
    /// The kernel (or a replay) sent bytes that are not a well-formed netlink message.
    case malformedMessage(String)

    /// The error for a negative-errno acknowledgement of an operation on `object`.
    static func fromAcknowledgement(errno code: Int32, object: String, kernelMessage: String?) -> NetlinkError {
        switch code {
        case EEXIST: .alreadyExists(object: object, kernelMessage: kernelMessage)
        case ENOENT, ENODEV, ESRCH: .notFound(object: object, kernelMessage: kernelMessage)
        default: .rejected(object: object, errno: code, kernelMessage: kernelMessage)
        }
    }

    /// The errno behind the error, when there is one.
    public var errno: Int32? {
        switch self {
        case .alreadyExists: EEXIST
        case .notFound: ENOENT
        case .rejected(_, let code, _), .namespace(_, _, let code), .socket(_, let code): code
        case .unknownLink: ENODEV
        case .invalidOperation: EINVAL
        case .malformedMessage: EBADMSG
        }
    }

    public var description: String {
        switch self {
        case .alreadyExists(let object, let message):
            Self.sentence(object, Self.text(for: EEXIST), message)
        case .notFound(let object, let message):
            Self.sentence(object, "No such object", message)
        case .rejected(let object, let code, let message):
            Self.sentence(object, Self.text(for: code), message)
        case .unknownLink(let name, let namespace):
            "link \(name): no such device in namespace \(namespace)"
        case .invalidOperation(let object, let reason):
            "\(object): \(reason)"
        case .namespace(let path, let action, let code):
            "namespace \(path): cannot \(action): \(Self.text(for: code))"
        case .socket(let action, let code):
            "netlink socket: cannot \(action): \(Self.text(for: code))"
        case .malformedMessage(let detail):
            "malformed netlink message: \(detail)"
        }
    }

    private static func sentence(_ object: String, _ cause: String, _ kernelMessage: String?) -> String {
        guard let kernelMessage, !kernelMessage.isEmpty else { return "\(object): \(cause)" }
        return "\(object): \(cause) (kernel: \(kernelMessage))"
    }

    static func text(for code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}
