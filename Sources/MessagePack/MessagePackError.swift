/// Why msgpack bytes could not be read, or a decoded value could not be mapped onto a Go-shaped struct.
///
/// Offsets are byte positions in the buffer handed to the reader.
public enum MessagePackError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input ended in the middle of a value that starts at `offset`.
    case truncated(offset: Int)
    /// A length or element count at `offset` claims more than the bytes that are left, so it is refused before
    /// anything is allocated (for example `dd ff ff ff ff`).
    case lengthExceedsInput(offset: Int, length: UInt64, remaining: Int)
    /// Containers nest deeper than the reader's limit.
    case tooDeep(offset: Int, limit: Int)
    /// `0xc1`, the one byte that is never a valid msgpack format.
    case invalidFormat(offset: Int, byte: UInt8)
    /// A whole-buffer decode found bytes after the value.
    case trailingBytes(offset: Int, count: Int)
    /// A value that should be a struct (a map, or a positional array) is something else.
    case notAStruct(type: String, found: String)
    /// A struct field holds a value of a kind that Go would refuse for the field's type.
    case fieldTypeMismatch(field: String, expected: String, found: String)
    /// An integer field's value does not fit the field's Go type.
    case fieldOutOfRange(field: String, type: String, value: String)
    /// A string field's bytes are not valid UTF-8.
    case fieldInvalidUTF8(field: String)

    public var description: String {
        switch self {
        case .truncated(let offset):
            "msgpack: input ends inside the value that starts at byte \(offset)"
        case .lengthExceedsInput(let offset, let length, let remaining):
            "msgpack: length \(length) at byte \(offset) exceeds the \(remaining) bytes left"
        case .tooDeep(let offset, let limit):
            "msgpack: containers nest deeper than \(limit) levels at byte \(offset)"
        case .invalidFormat(let offset, let byte):
            "msgpack: invalid format byte 0x\(String(byte, radix: 16)) at byte \(offset)"
        case .trailingBytes(let offset, let count):
            "msgpack: \(count) unexpected bytes after the value, from byte \(offset)"
        case .notAStruct(let type, let found):
            "msgpack: \(type) must be a map or an array, found \(found)"
        case .fieldTypeMismatch(let field, let expected, let found):
            "msgpack: field \(field) must be \(expected), found \(found)"
        case .fieldOutOfRange(let field, let type, let value):
            "msgpack: field \(field) value \(value) does not fit \(type)"
        case .fieldInvalidUTF8(let field):
            "msgpack: field \(field) is not valid UTF-8"
        }
    }
}
