extension KeyedDecodingContainer {
    /// Decodes a required, non-empty identifier (`NetworkID`, `EndpointID`, `PoolID`).
    func decodeIdentifier(forKey key: Key) throws -> String {
        let value = try decode(String.self, forKey: key)
        guard !value.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "must not be empty")
        }
        return value
    }

    /// Decodes a member that may be missing or `null`, falling back to `fallback`.
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key, default fallback: T) throws -> T {
        try decodeIfPresent(type, forKey: key) ?? fallback
    }
}
