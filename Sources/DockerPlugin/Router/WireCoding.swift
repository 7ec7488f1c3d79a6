import FoundationEssentials

/// JSON encoding and decoding of wire bodies, with error messages fit for a user.
enum WireCoding {
    /// Decodes a request body. An empty body, whitespace or `null` count as `{}`, so a body with only optional
    /// members decodes and one with required members reports what is missing.
    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8]) throws(BadRequest) -> T {
        let trimmed = body.drop(while: isWhitespace).reversed().drop(while: isWhitespace).reversed()
        let data: Data =
            trimmed.isEmpty || Array(trimmed) == Array("null".utf8) ? Data("{}".utf8) : Data(body)
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw BadRequest(reason: describe(error))
        } catch {
            throw BadRequest(reason: "malformed JSON")
        }
    }

    /// Encodes a reply with sorted keys, so replies are stable and easy to compare.
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// `{"Err": message}`; never fails.
    static func encodeError(_ message: String) -> [UInt8] {
        (try? encode(ErrorResponse(message))) ?? Array(#"{"Err":"internal error"}"#.utf8)
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// A one-line account of a decoding failure that names the member concerned.
    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field \"\(path(context.codingPath + [key]))\""
        case .typeMismatch(let type, let context):
            return "field \"\(path(context.codingPath))\" must be \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "field \"\(path(context.codingPath))\" must be \(typeName(type)), not null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return "malformed JSON"
            }
            return "field \"\(path(context.codingPath))\": \(context.debugDescription)"
        @unknown default:
            return "malformed request"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        var result = ""
        for key in keys {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                result += result.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return result.isEmpty ? "(body)" : result
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}

/// A request body that does not decode.
struct BadRequest: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
