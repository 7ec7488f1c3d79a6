import FoundationEssentials
import Glibc
import Synchronization

/// weft's state on disk, crash-safe and durable.
///
/// The state is kept in two slot files, `state-0.json` and `state-1.json`, written alternately in place: each
/// write goes to the slot not holding the newest state, carries a generation number and a checksum, and is
/// flushed with `fdatasync` before the update returns. A kill -9 or a power loss in the middle of a write
/// leaves that slot torn (its checksum fails) and the other slot whole, so loading always finds a complete
/// state: the newest one written, or the one before it. Writing in place costs one data flush and no
/// directory changes, which keeps a request's durable write well under a millisecond here.
///
/// Once the new slot is flushed, the same state is copied into the other slot, one generation lower so the
/// flushed slot stays the newest (the copy is not flushed: a copy torn by a crash fails its checksum and is
/// ignored), so both files describe the current state and an operator reading the directory never finds a
/// network that is gone.
///
/// Changes to endpoints and addresses, the ones that churn, are not written as a whole state: each is appended
/// to `journal.log` as one checksummed line holding only what changed (``StateDelta``) and flushed, so a change
/// costs the same with 1,000 endpoints as with 10. Loading replays the journal's entries for the newest slot's
/// generation in order and stops at the first torn or foreign line. After ``journalLimit`` entries, and for every
/// change to the set of networks, the store writes a whole slot as above and empties the journal; so the slot
/// files always name exactly the networks that exist, and replay stays short.
///
/// The slots are JSON so an operator can read them (`weft state` shows the state with the journal replayed).
/// Updates are serialised.
public final class StateStore: Sendable {
    /// How many journal entries the store appends before it writes a whole slot and empties the journal.
    public static let defaultJournalLimit = 256
    /// The journal file is kept at least this long, zero-filled past its entries, so an append overwrites
    /// allocated bytes and its flush is a data flush only (growing the file made each flush a metadata commit
    /// too: 3 ms instead of well under one here).
    static let journalPreallocation = 256 * 1024

    public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case unwritable(path: String, reason: String)
        case unsupportedFormat(path: String, version: Int)
        /// Another weft holds the state directory's lock.
        case inUse(directory: String, pid: Int32?)
        /// A store opened read-only was asked to write.
        case readOnly(directory: String)

        public var description: String {
            switch self {
            case .inUse(let directory, let pid):
                "state directory \(directory) is in use by another weft (pid \(pid.map { "\($0)" } ?? "unknown")); stop it or give another --state-dir"
            case .readOnly(let directory): "state directory \(directory) was opened read-only"
            case .unreadable(let path, let reason): "state file \(path) cannot be read: \(reason)"
            case .unwritable(let path, let reason): "state file \(path) cannot be written: \(reason)"
            case .unsupportedFormat(let path, let version):
                "state file \(path) has format \(version); this weft reads format \(PersistentState.currentFormat)"
            }
        }
    }

    /// The state directory, or nil for a store kept in memory only.
    public let directory: String?
    /// Held for the store's life by a store that writes; nil for read-only and in-memory stores.
    private let lock: StateDirectoryLock?
    private let readOnly: Bool
    private let journalLimit: Int
    private struct Slots: ~Copyable {
        var state: PersistentState
        /// The generation of the newest slot; journal entries name it as their base.
        var generation: UInt64
        /// The slot the next write goes to (the one not holding `state`).
        var nextSlot: Int
        let descriptors: [Int32]
        /// The journal file, or -1 (an in-memory store, or a read-only one with no journal).
        let journal: Int32
        /// Entries in the journal since the newest slot, and their bytes (where the next entry is written).
        var journalEntries: Int
        var journalBytes: Int
        /// The journal file's length: entries plus zero fill.
        var journalCapacity: Int

        deinit {
            for fd in descriptors where fd >= 0 { close(fd) }
            if journal >= 0 { close(journal) }
        }
    }
    private let slots: Mutex<Slots>

    /// Opens (or starts) the state in `directory` for this process alone: creates the directory (0700) if
    /// needed, takes its lock (another weft holding it: `inUse`), and keeps the directory 0700 and the files in
    /// it 0600, since the state names every network and address of the host.
    ///
    /// `readOnly` (for inspection while the daemon runs): no lock, nothing created or changed; `update` throws.
    /// `journalLimit`: journal entries before a whole slot is written (tests make it small).
    public init(directory: String, readOnly: Bool = false, journalLimit: Int = StateStore.defaultJournalLimit) throws(StoreError) {
        self.directory = directory
        self.readOnly = readOnly
        self.journalLimit = max(0, journalLimit)
        if readOnly {
            lock = nil
        } else {
            guard Self.makeDirectory(directory) else {
                throw .unwritable(path: directory, reason: "cannot create it: \(String(cString: strerror(errno)))")
            }
            var status = stat()
            guard stat(directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
                throw .unwritable(path: directory, reason: "not a directory")
            }
            if status.st_mode & 0o077 != 0, chmod(directory, status.st_mode & 0o700) != 0 {
                throw .unwritable(path: directory, reason: "cannot make it private (0700): \(String(cString: strerror(errno)))")
            }
            lock = try StateDirectoryLock(directory: directory)
        }
        var descriptors: [Int32] = []
        for slot in 0..<2 {
            let path = Self.slotPath(directory, slot)
            let fd = readOnly ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if fd < 0, readOnly, errno == ENOENT {
                descriptors.append(-1)
                continue
            }
            guard fd >= 0, readOnly || fchmod(fd, 0o600) == 0 else {
                let reason = String(cString: strerror(errno))
                if fd >= 0 { close(fd) }
                for open in descriptors where open >= 0 { close(open) }
                throw readOnly ? .unreadable(path: path, reason: reason) : .unwritable(path: path, reason: reason)
            }
            descriptors.append(fd)
        }
        var newest: (state: PersistentState, generation: UInt64, slot: Int)?
        var problems: [String] = []
        for slot in 0..<2 where descriptors[slot] >= 0 {
            switch Self.load(descriptors[slot], path: Self.slotPath(directory, slot)) {
            case .success(nil): break
            case .success(let loaded?):
                if newest == nil || loaded.generation > newest!.generation {
                    newest = (loaded.state, loaded.generation, slot)
                }
            case .failure(.unsupportedFormat(let path, let version)):
                for fd in descriptors where fd >= 0 { close(fd) }
                throw .unsupportedFormat(path: path, version: version)
            case .failure(let error):
                problems.append("\(error)")
            }
        }
        if newest == nil, !problems.isEmpty {
            for fd in descriptors where fd >= 0 { close(fd) }
            throw .unreadable(path: directory, reason: problems.joined(separator: "; "))
        }
        let start = newest ?? (PersistentState(), 0, 1)
        let journalPath = Self.journalPath(directory)
        let journal = readOnly ? open(journalPath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            : open(journalPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard journal >= 0 || (readOnly && errno == ENOENT), readOnly || fchmod(journal, 0o600) == 0 else {
            let reason = String(cString: strerror(errno))
            if journal >= 0 { close(journal) }
            for fd in descriptors where fd >= 0 { close(fd) }
            throw readOnly ? .unreadable(path: journalPath, reason: reason) : .unwritable(path: journalPath, reason: reason)
        }
        var state = start.state
        var replay = JournalReplay(applied: 0, bytes: 0, isWhole: true)
        if journal >= 0 {
            switch Self.readAll(journal) {
            case .success(let bytes): replay = Self.replay(bytes, base: start.generation, onto: &state)
            case .failure(let failure):
                close(journal)
                for fd in descriptors where fd >= 0 { close(fd) }
                throw .unreadable(path: journalPath, reason: failure.reason)
            }
        }
        var opened = Slots(state: state, generation: start.generation, nextSlot: 1 - start.slot, descriptors: descriptors,
                           journal: journal, journalEntries: replay.applied, journalBytes: replay.bytes,
                           journalCapacity: journal >= 0 ? Self.fileSize(journal) : 0)
        if !readOnly {
            try Self.reserveJournal(Self.journalPreallocation, path: journalPath, in: &opened)
            // Replayed entries, a torn last entry or entries of an older slot: start from a whole slot and an
            // empty journal.
            if replay.applied > 0 || !replay.isWhole {
                try Self.writeSnapshot(state, directory: directory, into: &opened)
            }
        }
        slots = Mutex(opened)
    }

    /// A store that keeps its state in memory only (tests, and dry runs without a state directory).
    public init(inMemory initial: PersistentState = PersistentState()) {
        directory = nil
        lock = nil
        readOnly = false
        journalLimit = 0
        slots = Mutex(Slots(state: initial, generation: 0, nextSlot: 0, descriptors: [], journal: -1, journalEntries: 0,
                            journalBytes: 0, journalCapacity: 0))
    }

    public var current: PersistentState { slots.withLock { $0.state } }

    /// Applies `change` and makes the result durable before returning. If `change` throws, nothing changes;
    /// if the write fails, the change is rolled back and the error thrown.
    public func update<T, E: Error>(_ change: (inout PersistentState) throws(E) -> T) throws -> T {
        try slots.withLock { (slots: inout Slots) throws -> T in
            var next = slots.state
            let result = try change(&next)
            if next != slots.state {
                if let directory {
                    if readOnly { throw StoreError.readOnly(directory: directory) }
                    if slots.generation > 0, slots.journalEntries < journalLimit,
                        let delta = StateDelta(from: slots.state, to: next), !delta.changesNetworks
                    {
                        // StateDeltaCoverageTests keeps every field of the state in the delta; debug builds (the
                        // tests, end to end too) check each delta against the state it stands for.
                        assert(delta.turns(slots.state, into: next), "a state change the journal delta does not carry")
                        try Self.append(delta, directory: directory, to: &slots)
                    } else {
                        try Self.writeSnapshot(next, directory: directory, into: &slots)
                    }
                }
                slots.state = next
            }
            return result
        }
    }

    /// Applies `delta`, a change its caller names key by key, and makes it durable before returning. The hot
    /// paths (an endpoint created or removed) use it: it costs the size of the change, where ``update(_:)``
    /// copies and compares the whole state to find what changed. If the write fails, nothing changes.
    func apply(_ delta: StateDelta) throws(StoreError) {
        try slots.withLock { (slots: inout Slots) throws(StoreError) in try apply(delta, to: &slots) }
    }

    /// Works out a change from the current state and applies it as ``apply(_:)`` does, under one lock so no other
    /// change comes between: `plan` reads the state (no copy) and returns its result and the delta, nil for none.
    /// The IPAM allocators use it: an address allocated or released costs the change, not the state's size. If
    /// `plan` throws, nothing changes.
    func apply<T, E: Error>(_ plan: (PersistentState) throws(E) -> (result: T, delta: StateDelta?)) throws -> T {
        try slots.withLock { (slots: inout Slots) throws -> T in
            let (result, delta) = try plan(slots.state)
            if let delta { try apply(delta, to: &slots) }
            return result
        }
    }

    private func apply(_ delta: StateDelta, to slots: inout Slots) throws(StoreError) {
        guard let directory else {
            delta.apply(to: &slots.state)
            return
        }
        if readOnly { throw .readOnly(directory: directory) }
        if slots.generation > 0, slots.journalEntries < journalLimit, !delta.changesNetworks {
            try Self.append(delta, directory: directory, to: &slots)
            delta.apply(to: &slots.state)
        } else {
            var next = slots.state
            delta.apply(to: &next)
            try Self.writeSnapshot(next, directory: directory, into: &slots)
            slots.state = next
        }
    }

    /// The newest slot file, for operators and tools.
    public var newestFile: String? {
        guard let directory else { return nil }
        return slots.withLock { $0.generation == 0 ? nil : Self.slotPath(directory, 1 - $0.nextSlot) }
    }

    private static func slotPath(_ directory: String, _ slot: Int) -> String { "\(directory)/state-\(slot).json" }
    private static func journalPath(_ directory: String) -> String { "\(directory)/journal.log" }

    /// Writes `state` as a whole into the slot not holding the newest state (flushed), copies it into the other
    /// (not flushed), and empties the journal, whose entries the new slot includes.
    private static func writeSnapshot(_ state: PersistentState, directory: String, into slots: inout Slots) throws(StoreError) {
        let generation = slots.generation + 1
        try write(state, generation: generation, to: slots.descriptors[slots.nextSlot], path: slotPath(directory, slots.nextSlot))
        let other = 1 - slots.nextSlot
        try? write(state, generation: generation - 1, to: slots.descriptors[other], path: slotPath(directory, other), flush: false)
        slots.generation = generation
        slots.nextSlot = other
        // The journal's entries name the older generation now, so loading skips them; the next entries
        // overwrite them from the start (the file keeps its length, see `journalPreallocation`).
        slots.journalEntries = 0
        slots.journalBytes = 0
    }

    /// Makes the journal file at least `length` bytes long by appending zeros, flushed.
    private static func reserveJournal(_ length: Int, path: String, in slots: inout Slots) throws(StoreError) {
        guard slots.journalCapacity < length else { return }
        let fill = [UInt8](repeating: 0, count: length - slots.journalCapacity)
        guard pwriteAll(fill, to: slots.journal, at: slots.journalCapacity), fdatasync(slots.journal) == 0 else {
            throw .unwritable(path: path, reason: String(cString: strerror(errno)))
        }
        slots.journalCapacity = length
    }

    private static func fileSize(_ fd: Int32) -> Int {
        var status = stat()
        return fstat(fd, &status) == 0 ? Int(status.st_size) : 0
    }

    /// One journal line: the generation it applies to, its place in the journal, and the change.
    private struct JournalEntry: Codable {
        var base: UInt64
        var sequence: Int
        var delta: StateDelta
    }

    /// Appends one entry and flushes it; on failure the journal is cut back to where it was.
    private static func append(_ delta: StateDelta, directory: String, to slots: inout Slots) throws(StoreError) {
        let path = journalPath(directory)
        let document: Data
        do {
            document = try JSONEncoder().encode(JournalEntry(base: slots.generation, sequence: slots.journalEntries + 1, delta: delta))
        } catch {
            throw .unwritable(path: path, reason: "\(error)")
        }
        let hex = String(checksum(document), radix: 16)
        let line = Array((String(repeating: "0", count: 16 - hex.count) + hex + " ").utf8) + Array(document) + [10]
        if slots.journalBytes + line.count > slots.journalCapacity {
            try reserveJournal(slots.journalBytes + line.count + journalPreallocation, path: path, in: &slots)
        }
        guard pwriteAll(line, to: slots.journal, at: slots.journalBytes), fdatasync(slots.journal) == 0 else {
            let reason = String(cString: strerror(errno))
            // Whatever reached the file is cut off by a zero, so loading stops before it.
            _ = pwriteAll([0], to: slots.journal, at: slots.journalBytes)
            throw .unwritable(path: path, reason: reason)
        }
        slots.journalEntries += 1
        slots.journalBytes += line.count
    }

    private struct JournalReplay {
        /// Entries applied, and the bytes they take from the start of the file.
        var applied: Int
        var bytes: Int
        /// Whether the file held nothing after the entries but zero fill.
        var isWhole: Bool
    }

    /// Applies the journal's entries for generation `base` in order, stopping at the first line that is torn,
    /// fails its checksum, names another generation or is out of sequence.
    private static func replay(_ bytes: [UInt8], base: UInt64, onto state: inout PersistentState) -> JournalReplay {
        var replay = JournalReplay(applied: 0, bytes: 0, isWhole: true)
        var start = 0
        while start < bytes.count {
            guard let end = bytes[start...].firstIndex(of: 10), let space = bytes[start..<end].firstIndex(of: 32),
                let recorded = UInt64(String(decoding: bytes[start..<space], as: UTF8.self), radix: 16),
                checksum(bytes[(space + 1)..<end]) == recorded,
                let entry = try? JSONDecoder().decode(JournalEntry.self, from: Data(bytes[(space + 1)..<end])),
                entry.base == base, entry.sequence == replay.applied + 1
            else {
                replay.isWhole = bytes[start...].allSatisfy { $0 == 0 }
                break
            }
            entry.delta.apply(to: &state)
            replay.applied += 1
            start = end + 1
            replay.bytes = start
        }
        return replay
    }

    /// Why reading a file failed (strerror's words).
    private struct ReadFailure: Error {
        let reason: String
    }

    private static func readAll(_ fd: Int32) -> Result<[UInt8], ReadFailure> {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var offset: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count < 0 { return .failure(ReadFailure(reason: String(cString: strerror(errno)))) }
            if count == 0 { return .success(bytes) }
            bytes += chunk[0..<count]
            offset += off_t(count)
        }
    }

    private static func pwriteAll(_ bytes: [UInt8], to fd: Int32, at start: Int) -> Bool {
        bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let count = pwrite(fd, raw.baseAddress! + offset, raw.count - offset, off_t(start + offset))
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
    }

    /// What a slot file holds: the checksum line, then the JSON document.
    private struct Envelope: Codable {
        var generation: UInt64
        var state: PersistentState
    }

    private static func load(_ fd: Int32, path: String) -> Result<(state: PersistentState, generation: UInt64)?, StoreError> {
        let bytes: [UInt8]
        switch readAll(fd) {
        case .success(let read): bytes = read
        case .failure(let failure): return .failure(.unreadable(path: path, reason: failure.reason))
        }
        if bytes.isEmpty { return .success(nil) }
        guard let newline = bytes.firstIndex(of: 10),
            let recorded = UInt64(String(decoding: bytes[..<newline], as: UTF8.self), radix: 16)
        else { return .failure(.unreadable(path: path, reason: "no checksum line")) }
        let document = bytes[(newline + 1)...]
        guard checksum(document) == recorded else {
            return .failure(.unreadable(path: path, reason: "checksum mismatch (an interrupted write)"))
        }
        struct Version: Decodable {
            struct Inner: Decodable { var formatVersion: Int }
            var state: Inner
        }
        do {
            let version = try JSONDecoder().decode(Version.self, from: Data(document)).state.formatVersion
            guard version == PersistentState.currentFormat else { return .failure(.unsupportedFormat(path: path, version: version)) }
            let envelope = try JSONDecoder().decode(Envelope.self, from: Data(document))
            return .success((envelope.state, envelope.generation))
        } catch {
            return .failure(.unreadable(path: path, reason: "\(error)"))
        }
    }

    private static func write(
        _ state: PersistentState, generation: UInt64, to fd: Int32, path: String, flush: Bool = true
    ) throws(StoreError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let document: Data
        do { document = try encoder.encode(Envelope(generation: generation, state: state)) } catch {
            throw .unwritable(path: path, reason: "\(error)")
        }
        let bytes = Array((String(checksum(document), radix: 16) + "\n").utf8) + Array(document)
        guard pwriteAll(bytes, to: fd, at: 0), ftruncate(fd, off_t(bytes.count)) == 0, !flush || fdatasync(fd) == 0 else {
            throw .unwritable(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// 64 bits of FNV-1a: enough to tell a torn write from a whole one.
    private static func checksum(_ bytes: some Sequence<UInt8>) -> UInt64 { FNV1a.hash64(bytes) }

    private static func makeDirectory(_ path: String) -> Bool {
        var current = ""
        for component in path.split(separator: "/") {
            current += (path.hasPrefix("/") || !current.isEmpty ? "/" : "") + component
            if mkdir(current, 0o700) != 0, errno != EEXIST { return false }
        }
        return true
    }
}
