/// Addresses and subnets, written as their text wherever they are encoded (state files, `weft state`): decoded
/// by parsing, so a bad value is a decoding error that says why, and encoded as their description.
public protocol TextCodable: Codable, CustomStringConvertible {
    init(parsing text: String) throws(IPAddressParseError)
}

extension TextCodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Addresses that key dictionaries in encoded state (`[IPv4Address: AddressAllocation]`): keyed by their text.
public protocol TextCodingKeyRepresentable: TextCodable, CodingKeyRepresentable {}

extension TextCodingKeyRepresentable {
    public var codingKey: any CodingKey { AddressCodingKey(stringValue: description) }

    public init?<T: CodingKey>(codingKey: T) {
        guard let value = try? Self(parsing: codingKey.stringValue) else { return nil }
        self = value
    }
}

/// A plain string coding key, for dictionaries keyed by addresses or other text-valued identifiers.
public struct AddressCodingKey: CodingKey {
    public let stringValue: String
    public var intValue: Int? { nil }

    public init(stringValue: String) {
        self.stringValue = stringValue
    }

    public init?(intValue: Int) {
        nil
    }
}
