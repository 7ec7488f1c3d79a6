import FoundationEssentials
import Glibc
import Synchronization

/// weft's state on disk, crash-safe: every change is written to a temporary file, flushed, and renamed over
/// the state file, so a kill -9 at any moment leaves either the old state or the new one, never a mix.
///
/// The file is JSON so an operator can read it (`<state-dir>/state.json`). Updates are serialised; the write
/// happens inside the update, so once `update` returns the change is durable.
public final class StateStore: Sendable {
    public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case unwritable(path: String, reason: String)
        case unsupportedFormat(path: String, version: Int)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "state file \(path) cannot be read: \(reason)"
            case .unwritable(let path, let reason): "state file \(path) cannot be written: \(reason)"
            case .unsupportedFormat(let path, let version):
                "state file \(path) has format \(version); this weft reads format \(PersistentState.currentFormat)"
            }
        }
    }

    /// The state file, or nil for a store kept in memory only.
    public let path: String?
    private let state: Mutex<PersistentState>

    /// Opens (or starts) the state in `directory`, creating the directory if needed.
    public init(directory: String) throws(StoreError) {
        let path = directory + "/state.json"
        self.path = path
        guard Self.makeDirectory(directory) else {
            throw .unwritable(path: path, reason: "cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        unlink(path + ".tmp")  // a write a crash interrupted; the state file itself is intact
        state = Mutex(try Self.load(path))
    }

    /// A store that keeps its state in memory only (tests, and dry runs without a state directory).
    public init(inMemory initial: PersistentState = PersistentState()) {
        path = nil
        state = Mutex(initial)
    }

    public var current: PersistentState { state.withLock { $0 } }

    /// Applies `change` and makes the result durable before returning. If `change` throws, nothing changes;
    /// if the write fails, the change is rolled back and the error thrown.
    public func update<T, E: Error>(_ change: (inout PersistentState) throws(E) -> T) throws -> T {
        try state.withLock { (state: inout PersistentState) throws -> T in
            var next = state
            let result = try change(&next)
            if next != state {
                if let path { try Self.write(next, to: path) }
                state = next
            }
            return result
        }
    }

    private static func load(_ path: String) throws(StoreError) -> PersistentState {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return PersistentState() }
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        struct Version: Decodable { var formatVersion: Int }
        do {
            let version = try JSONDecoder().decode(Version.self, from: Data(bytes)).formatVersion
            guard version == PersistentState.currentFormat else { throw StoreError.unsupportedFormat(path: path, version: version) }
            return try JSONDecoder().decode(PersistentState.self, from: Data(bytes))
        } catch let error as StoreError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
    }

    private static func write(_ state: PersistentState, to path: String) throws(StoreError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(state) } catch { throw .unwritable(path: path, reason: "\(error)") }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .unwritable(path: path, reason: String(cString: strerror(errno))) }
        let written = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let count = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
        let flushed = written && fsync(fd) == 0
        close(fd)
        guard flushed, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .unwritable(path: path, reason: reason)
        }
        // The rename itself is durable once the directory is flushed.
        let directory = open(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    private static func makeDirectory(_ path: String) -> Bool {
        var current = ""
        for component in path.split(separator: "/") {
            current += (path.hasPrefix("/") || !current.isEmpty ? "/" : "") + component
            if mkdir(current, 0o700) != 0, errno != EEXIST { return false }
        }
        return true
    }
}
