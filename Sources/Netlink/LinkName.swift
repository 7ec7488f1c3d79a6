/// Kernel interface names: at most 15 bytes, no `/`, no whitespace, not `.` or `..`.
public enum LinkName {
    public static let maximumLength = 15

    /// Why `name` cannot be an interface name, or nil when it can.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "an interface name cannot be empty" }
        if name.utf8.count > maximumLength { return "interface name \"\(name)\" is longer than \(maximumLength) bytes" }
        if name == "." || name == ".." { return "\"\(name)\" is not a valid interface name" }
        if name.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace }) {
            return "interface name \"\(name)\" contains '/', ':' or whitespace"
        }
        return nil
    }
}

/// A link named either by its interface name or by its index in a namespace.
public enum LinkReference: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    case name(String)
    case index(Int32)

    public init(stringLiteral value: String) { self = .name(value) }

    public var description: String {
        switch self {
        case .name(let name): name
        case .index(let index): "link #\(index)"
        }
    }
}
