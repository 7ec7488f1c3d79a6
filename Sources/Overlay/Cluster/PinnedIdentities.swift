import FoundationEssentials
import Gossip
import Synchronization

/// The identity keys of other hosts, pinned the first time each host's gossip tags show one: from then on only
/// that key's signatures make the host's records valid, whatever its tags later say.
///
/// Kept in ``fileName`` in the state directory (mode 0600, JSON: node name → base64 public key), so a restart
/// does not forget them. When a host's key legitimately changes (its state directory was lost), an operator
/// removes its pin: delete its line from the file (or the file, to forget every pin) and restart weft, or call
/// ``unpin(_:)``.
public final class PinnedIdentities: Sendable {
    public enum PinError: Error, Sendable, Equatable, CustomStringConvertible {
        case file(String)
        case malformed(path: String)

        public var description: String {
            switch self {
            case .file(let reason): "pinned identities: \(reason)"
            case .malformed(let path): "pinned identities \(path) is not a JSON map of node names to base64 keys"
            }
        }
    }

    /// What a host's current key is, against its pin.
    public enum Outcome: Sendable, Equatable {
        /// Seen for the first time, and now pinned.
        case pinned
        /// The pinned key.
        case matches
        /// Not the pinned key (base64): the host's records are refused until an operator removes the pin.
        case differs(pinned: String)
    }

    /// The pins' file in the state directory.
    public static let fileName = "pinned-identities.json"
    /// At most this many hosts are pinned; more are refused (so a flood of made-up members cannot grow the file).
    public static let capacity = 16_384

    private let path: String?
    private let pins: Mutex<[String: String]>

    /// Pins kept in memory only (tests, dry runs).
    public init() {
        path = nil
        pins = Mutex([:])
    }

    /// Loads the pins kept in `directory`.
    public init(directory: String) throws(PinError) {
        let path = directory + "/" + Self.fileName
        self.path = path
        do {
            guard let bytes = try SecretFile.read(path, maxBytes: 4 << 20) else {
                pins = Mutex([:])
                return
            }
            guard let loaded = try? JSONDecoder().decode([String: String].self, from: Data(bytes)) else {
                throw PinError.malformed(path: path)
            }
            pins = Mutex(loaded)
        } catch let error as PinError {
            throw error
        } catch {
            throw .file("\(error)")
        }
    }

    /// Compares `key` (a tag value) with the node's pin, pinning it (durably) if the node has none. Throws when
    /// the new pin cannot be saved; it holds in memory all the same.
    public func check(node: String, key: String) throws(PinError) -> Outcome {
        let outcome: Outcome? = pins.withLock { pins in
            switch pins[node] {
            case key?: return .matches
            case let other?: return .differs(pinned: other)
            case nil:
                guard pins.count < Self.capacity else { return nil }
                pins[node] = key
                return .pinned
            }
        }
        guard let outcome else { throw .file("more than \(Self.capacity) hosts pinned; \(node) is not") }
        if outcome == .pinned { try save() }
        return outcome
    }

    /// The pinned key (base64) of a node.
    public func pinned(_ node: String) -> String? { pins.withLock { $0[node] } }

    /// Every pin: node name → base64 public key.
    public var all: [String: String] { pins.withLock { $0 } }

    /// Forgets a node's pin (its key changed for a reason the operator knows): its next key is pinned anew.
    public func unpin(_ node: String) throws(PinError) {
        let removed = pins.withLock { $0.removeValue(forKey: node) != nil }
        if removed { try save() }
    }

    private func save() throws(PinError) {
        guard let path else { return }
        let snapshot = all
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try SecretFile.write(path, Array(try encoder.encode(snapshot)))
        } catch {
            throw .file("\(error)")
        }
    }
}
