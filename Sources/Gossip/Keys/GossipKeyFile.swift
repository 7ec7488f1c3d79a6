import Crypto
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The cluster's gossip keys on disk: one base64 AES key per line (16, 24 or 32 bytes, serf's format), primary
/// first; blank lines and `#` comments are ignored.
///
/// The file is a secret: it is read only when it is a regular file (never through a symlink), owned by the user
/// weft runs as, and readable by nobody else (mode 0600 or stricter); it is written atomically with mode 0600.
/// No error ever quotes a key.
public struct GossipKeyFile: Sendable, Equatable {
    public let path: String

    public init(path: String) { self.path = path }

    /// Whether a file (or anything) is at the path.
    public var exists: Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Reads the keys, primary first.
    public func read() throws(GossipKeyFileError) -> [[UInt8]] {
        let bytes: [UInt8]?
        do { bytes = try SecretFile.read(path, maxBytes: 64 * 1024) } catch { throw .file(error) }
        guard let bytes else { throw .file(.unreadable(path: path, reason: "no such file")) }
        return try Self.parse(String(decoding: bytes, as: UTF8.self), path: path)
    }

    /// Replaces the file's keys (primary first), atomically, with mode 0600.
    public func write(_ keys: [[UInt8]]) throws(GossipKeyFileError) {
        let text = "# weft gossip keys (base64 AES keys, primary first). Keep secret: mode 0600.\n"
            + keys.map { Data($0).base64EncodedString() + "\n" }.joined()
        do { try SecretFile.write(path, Array(text.utf8)) } catch { throw .file(error) }
    }

    /// Parses key-file text; errors name the line, never its content.
    static func parse(_ text: String, path: String) throws(GossipKeyFileError) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = GossipKey.trimmed(rawLine)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let key = try GossipKey.decode(line, source: "\(path) line \(index + 1)")
            if !keys.contains(key) { keys.append(key) }
        }
        guard !keys.isEmpty else { throw .malformed(path: path, line: 0, reason: "it holds no key") }
        return keys
    }
}

/// Gossip keys as text: base64 in files and the environment, a short fingerprint wherever a key must be named.
public enum GossipKey {
    /// A fresh random AES-256 key.
    public static func generate() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Decodes a base64 key of 16, 24 or 32 bytes; the error names `source`, never the text.
    public static func decode(_ text: String, source: String) throws(GossipKeyFileError) -> [UInt8] {
        guard let data = Data(base64Encoded: trimmed(text)) else {
            throw .invalidKey(source: source, reason: "not base64")
        }
        guard [16, 24, 32].contains(data.count) else {
            throw .invalidKey(source: source, reason: "\(data.count) bytes, not 16, 24 or 32")
        }
        return Array(data)
    }

    static func trimmed(_ text: some StringProtocol) -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(text[first...last])
    }

    /// The key in base64, for a key file or another host.
    public static func encode(_ key: [UInt8]) -> String { Data(key).base64EncodedString() }

    /// A name for a key that reveals nothing of it: the first 8 bytes of its SHA-256, in hex.
    public static func fingerprint(_ key: [UInt8]) -> String {
        SHA256.hash(data: key).prefix(8).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
        }.joined()
    }
}

/// Why gossip keys could not be read or written.
public enum GossipKeyFileError: Error, Equatable, CustomStringConvertible {
    /// The file itself: missing, unreadable, not private, a symlink.
    case file(SecretFile.Failure)
    case malformed(path: String, line: Int, reason: String)
    case invalidKey(source: String, reason: String)

    public var description: String {
        switch self {
        case .file(let failure): "gossip key file: \(failure)"
        case .malformed(let path, let line, let reason):
            line == 0 ? "the gossip key file \(path): \(reason)" : "the gossip key file \(path), line \(line): \(reason)"
        case .invalidKey(let source, let reason): "gossip key in \(source): \(reason)"
        }
    }
}
