extension MessagePackValue {
    /// A Go struct as go-msgpack 0.5.5 writes it: a map keyed by field name, keys sorted byte-wise (its
    /// `sfiSortedByEncName` order), and fields given as `nil` left out as `omitempty` leaves out an empty field
    /// (the map shrinks to match).
    ///
    /// - Parameter fields: the field names and values in any order; `nil` means "omitted".
    public static func goStruct(_ fields: [(name: String, value: MessagePackValue?)]) -> MessagePackValue {
        let present = fields.compactMap { field in field.value.map { (Array(field.name.utf8), $0) } }
        let sorted = present.sorted { $0.0.lexicographicallyPrecedes($1.0) }
        return .map(sorted.map { MessagePackPair(.raw($0.0), $0.1) })
    }
}

/// The fields of a decoded Go struct, read as go-msgpack 0.5.5 fills a typed struct.
///
/// A struct arrives as a map keyed by field name, or as an array in declaration order. Go leaves a missing
/// field (and one sent as nil) at its zero value, ignores unknown keys and lets the last of duplicate keys win;
/// so do these accessors. A value of the wrong kind, or an integer that does not fit, is an error naming the
/// field (`alive.Port`).
public struct GoStructFields: Sendable {
    /// The Go type name used in errors (`alive`, `pushNodeState`).
    public let typeName: String
    private let fields: [String: MessagePackValue]

    /// Reads `value` as the struct `typeName` whose fields, in Go declaration order, are `fieldOrder`
    /// (used only when the struct arrives as an array).
    public init(_ value: MessagePackValue, typeName: String, fieldOrder: [String]) throws(MessagePackError) {
        self.typeName = typeName
        var fields: [String: MessagePackValue] = [:]
        switch value {
        case .map(let pairs):
            for pair in pairs {
                // Keys that are not strings cannot name a field; like unknown keys they are skipped.
                guard let keyBytes = pair.key.rawBytes, let key = String(validating: keyBytes, as: UTF8.self)
                else { continue }
                fields[key] = pair.value
            }
        case .array(let elements):
            for (name, element) in zip(fieldOrder, elements) {
                fields[name] = element
            }
        default:
            throw .notAStruct(type: typeName, found: value.kindName)
        }
        self.fields = fields
    }

    /// The raw value of a field, if present.
    public func value(_ field: String) -> MessagePackValue? {
        fields[field]
    }

    /// A Go `string` field: raw or binary bytes that are valid UTF-8; absent or nil gives "".
    public func string(_ field: String) throws(MessagePackError) -> String {
        guard let value = fields[field] else { return "" }
        switch value {
        case .null:
            return ""
        case .raw(let bytes), .binary(let bytes):
            guard let string = String(validating: bytes, as: UTF8.self) else {
                throw .fieldInvalidUTF8(field: qualified(field))
            }
            return string
        default:
            throw .fieldTypeMismatch(field: qualified(field), expected: "a string", found: value.kindName)
        }
    }

    /// A Go `[]byte` field: raw or binary bytes; absent or nil gives `[]` (Go cannot tell them apart).
    public func bytes(_ field: String) throws(MessagePackError) -> [UInt8] {
        try optionalBytes(field) ?? []
    }

    /// A Go `[]byte` field keeping the wire's distinction: absent or nil gives `nil`, a zero-length raw
    /// string `[]`. Re-encoding the result with ``MessagePackValue/bytes(_:)`` gives the same bytes back.
    public func optionalBytes(_ field: String) throws(MessagePackError) -> [UInt8]? {
        guard let value = fields[field] else { return nil }
        switch value {
        case .null:
            return nil
        case .raw(let bytes), .binary(let bytes):
            return bytes
        default:
            throw .fieldTypeMismatch(field: qualified(field), expected: "bytes", found: value.kindName)
        }
    }

    /// A Go `bool` field; absent or nil gives `false`.
    public func bool(_ field: String) throws(MessagePackError) -> Bool {
        guard let value = fields[field] else { return false }
        switch value {
        case .null: return false
        case .bool(let flag): return flag
        default:
            throw .fieldTypeMismatch(field: qualified(field), expected: "a bool", found: value.kindName)
        }
    }

    /// An integer field of any Go integer type `T`, from any msgpack integer form; absent or nil gives 0.
    public func integer<T: FixedWidthInteger & Sendable>(
        _ field: String, as type: T.Type = T.self
    ) throws(MessagePackError) -> T {
        guard let value = fields[field] else { return 0 }
        let converted: T?
        let text: String
        switch value {
        case .null:
            return 0
        case .uint(let number):
            converted = T(exactly: number)
            text = String(number)
        case .int(let number):
            converted = T(exactly: number)
            text = String(number)
        default:
            throw .fieldTypeMismatch(field: qualified(field), expected: "an integer", found: value.kindName)
        }
        guard let converted else {
            throw .fieldOutOfRange(field: qualified(field), type: String(describing: T.self), value: text)
        }
        return converted
    }

    private func qualified(_ field: String) -> String {
        "\(typeName).\(field)"
    }
}
