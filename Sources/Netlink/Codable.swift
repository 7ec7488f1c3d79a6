/// Values that persist as their text form (`02:aa:bb:cc:dd:ee`, `192.0.2.1`), readable in state files.
protocol CodableAsText: Codable, CustomStringConvertible {
    init?(_ text: String)
}

extension CodableAsText {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" is not a valid \(Self.self)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension MACAddress: CodableAsText {}
