import MessagePack

/// Why bytes from the network could not be turned into memberlist messages, or a message could not be encoded.
///
/// Every decoder in the wire layer throws only this type; none of them traps on any input.
public indirect enum WireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A packet, stream or message (including a compound part) with no bytes at all.
    case empty(context: String)
    /// The input ended before a fixed-size header or a declared length was complete (`context` says which).
    case truncated(context: String, needed: Int, available: Int)
    /// The first byte is not one of memberlist's message types.
    case unknownMessageType(UInt8)
    /// A known type where it may not appear (a push/pull in a UDP packet, a compound on a stream, ...).
    case unexpectedMessageType(MessageType, context: String)
    /// A message body is not valid msgpack, or not the struct its type byte announces.
    case malformedBody(MessageType, MessagePackError)
    /// A header field holds a negative length or one above the configured limit.
    case lengthOutOfRange(field: String, value: Int64, limit: Int)
    /// Compound and compress wrappers nest deeper than ``WireLimits/maxNesting``.
    case nestingTooDeep(limit: Int)
    /// A compound message's length table is longer than the packet.
    case compoundLengthsTruncated(parts: Int, available: Int)
    /// A part of a compound message could not be decoded; `index` counts from 0.
    case compoundPart(index: Int, WireError)
    /// Encoding: more parts than one compound can hold.
    case compoundTooManyParts(count: Int, limit: Int)
    /// Encoding: a part longer than the compound's 16-bit length field.
    case compoundPartTooLarge(index: Int, size: Int)
    /// The CRC-32 in a `0c` header does not match the payload.
    case checksumMismatch(expected: UInt32, computed: UInt32)
    /// A compress message names an algorithm other than LZW (0).
    case unknownCompressionAlgorithm(UInt8)
    /// The LZW data inside a compress message is corrupt or too large.
    case lzw(LZWError)
    /// Decompression produced nothing (memberlist 0.2.2 panics on this).
    case emptyDecompressedPayload
    /// A key that is not 16, 24 or 32 bytes long.
    case invalidKeySize(Int)
    /// A keyring with no keys.
    case emptyKeyring
    /// An encrypted payload shorter than version + nonce + tag.
    case encryptedPayloadTooShort(length: Int, minimum: Int)
    /// An encryption version byte other than 0 or 1.
    case unsupportedEncryptionVersion(UInt8)
    /// No key in the keyring authenticates the payload (wrong key, or corrupted data).
    case noKeyCouldDecrypt(keysTried: Int)
    /// Version-0 (padded) plaintext with impossible PKCS#7 padding.
    case invalidPadding
    /// The encryption library refused to seal (should not happen with a valid key).
    case encryptionFailed(String)
    /// A label header that is empty, longer than 255 bytes, or not what this node expects.
    case invalidLabel(String)
    /// The label header does not match this node's label.
    case labelMismatch(received: [UInt8], expected: [UInt8])
    /// A keyring is configured and verification is on, but the data is not encrypted.
    case notEncrypted
    /// An encrypted stream arrived and no keyring is configured.
    case encryptedButNoKeyring
    /// A compressed UDP packet arrived and ``WireConfig/acceptCompressedPackets`` is off.
    case compressionRefused

    public var description: String {
        switch self {
        case .empty(let context):
            "empty \(context)"
        case .truncated(let context, let needed, let available):
            "\(context) truncated: needs \(needed) bytes, \(available) available"
        case .unknownMessageType(let byte):
            "unknown message type \(byte)"
        case .unexpectedMessageType(let type, let context):
            "message type \(type.rawValue) (\(type)) is not allowed \(context)"
        case .malformedBody(let type, let error):
            "malformed \(type) message: \(error)"
        case .lengthOutOfRange(let field, let value, let limit):
            "\(field) \(value) is out of range (0...\(limit))"
        case .nestingTooDeep(let limit):
            "compound/compress wrappers nest deeper than \(limit)"
        case .compoundLengthsTruncated(let parts, let available):
            "compound message announces \(parts) parts but only \(available) bytes of length table follow"
        case .compoundPart(let index, let error):
            "compound part \(index): \(error)"
        case .compoundTooManyParts(let count, let limit):
            "\(count) parts do not fit one compound message (limit \(limit))"
        case .compoundPartTooLarge(let index, let size):
            "compound part \(index) is \(size) bytes, more than 65535"
        case .checksumMismatch(let expected, let computed):
            "CRC mismatch: header says \(hex(expected)), payload has \(hex(computed))"
        case .unknownCompressionAlgorithm(let algo):
            "unknown compression algorithm \(algo)"
        case .lzw(let error):
            "\(error)"
        case .emptyDecompressedPayload:
            "compressed payload decompresses to nothing"
        case .invalidKeySize(let size):
            "encryption key is \(size) bytes; it must be 16, 24 or 32"
        case .emptyKeyring:
            "keyring has no keys"
        case .encryptedPayloadTooShort(let length, let minimum):
            "encrypted payload is \(length) bytes, shorter than the minimum \(minimum)"
        case .unsupportedEncryptionVersion(let version):
            "unsupported encryption version \(version)"
        case .noKeyCouldDecrypt(let keysTried):
            "no installed key could decrypt the message (\(keysTried) tried)"
        case .invalidPadding:
            "invalid PKCS#7 padding in a version 0 encrypted payload"
        case .encryptionFailed(let reason):
            "encryption failed: \(reason)"
        case .invalidLabel(let reason):
            "invalid label: \(reason)"
        case .labelMismatch(let received, let expected):
            "label \(String(decoding: received, as: UTF8.self).debugDescription) does not match "
                + "\(String(decoding: expected, as: UTF8.self).debugDescription)"
        case .notEncrypted:
            "encryption is configured but the remote data is not encrypted"
        case .encryptedButNoKeyring:
            "remote data is encrypted but no keyring is configured"
        case .compressionRefused:
            "compressed packets are not accepted"
        }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}

extension WireError {
    /// `true` when the input only looks cut short: a stream transport should read more bytes and try again
    /// (up to its size limit) rather than give up.
    public var needsMoreInput: Bool {
        switch self {
        case .truncated:
            true
        case .malformedBody(_, let error):
            switch error {
            case .truncated, .lengthExceedsInput: true
            default: false
            }
        default:
            false
        }
    }
}
