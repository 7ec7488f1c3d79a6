/// A version of a replicated entry: a Lamport clock, ties broken by the writing node's ID. Versions are totally
/// ordered, so every host that has seen the same writes picks the same winner, in whatever order they came.
public struct EntryVersion: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var clock: UInt64
    public var node: String

    public init(clock: UInt64, node: String) {
        self.clock = clock
        self.node = node
    }

    public static func < (lhs: EntryVersion, rhs: EntryVersion) -> Bool {
        (lhs.clock, lhs.node) < (rhs.clock, rhs.node)
    }

    public var description: String { "\(clock)@\(node)" }
}

/// One entry of a replicated table: a value, or a tombstone that remembers a deletion until it expires.
public struct ReplicatedEntry<Value: Sendable & Equatable & Codable>: Sendable, Equatable, Codable {
    public var version: EntryVersion
    /// The node that owns the entry (whose endpoint or claim it is); its failure suspends the entry.
    public var owner: String
    /// nil for a tombstone.
    public var value: Value?
    /// The owner's Ed25519 signature over the entry's canonical bytes (``ClusterCodec/signedBytes(_:key:entry:)``);
    /// empty until signed.
    public var signature: [UInt8]

    public init(version: EntryVersion, owner: String, value: Value?, signature: [UInt8] = []) {
        self.version = version
        self.owner = owner
        self.value = value
        self.signature = signature
    }

    public var isTombstone: Bool { value == nil }
}

/// A last-writer-wins map replicated between hosts by gossip (broadcasts) and anti-entropy (push-pull).
///
/// Merging is commutative, associative and idempotent: any hosts that have received the same set of entries,
/// in any order and any number of times, hold the same table. Deletions are tombstones, kept for
/// `tombstoneLifetime` so a late copy of the deleted entry cannot bring it back, then dropped. Entries of a
/// node that failed are suspended (kept, but not live) until it returns or they are purged.
public struct ReplicatedTable<Value: Sendable & Equatable & Codable>: Sendable, Equatable {
    public private(set) var entries: [String: ReplicatedEntry<Value>] = [:]
    /// When each tombstone was first seen here, in the table's time (seconds on any monotonic clock).
    private var tombstonedAt: [String: Double] = [:]
    /// The highest clock seen: local writes go one above it (Lamport).
    public private(set) var clock: UInt64 = 0
    public let node: String
    public private(set) var suspendedOwners: Set<String> = []
    /// Every entry replaced since the last ``takeChanges()``, in order, while ``recordsChanges`` is on: what lets a
    /// reader keep an index of the values without scanning the table.
    private var changeLog: [EntryChange] = []
    /// Whether the log stopped at ``changeLogLimit`` (changes were lost: an index must be rebuilt).
    private var changeLogOverflowed = false
    /// Whether mutations are logged for ``takeChanges()``.
    public var recordsChanges = false
    /// How many changes the log keeps untaken before it gives up.
    public static var changeLogLimit: Int { 4096 }

    /// One entry replaced: its entry before and after (nil where the key was absent).
    public struct EntryChange: Sendable {
        public var key: String
        public var old: ReplicatedEntry<Value>?
        public var new: ReplicatedEntry<Value>?
    }

    public init(node: String) { self.node = node }

    /// The changes logged since the last call, in order; nil when the log overflowed (read the whole table).
    public mutating func takeChanges() -> [EntryChange]? {
        defer {
            changeLog = []
            changeLogOverflowed = false
        }
        return changeLogOverflowed ? nil : changeLog
    }

    /// Replaces one key's entry, logging the change.
    private mutating func set(_ key: String, _ entry: ReplicatedEntry<Value>?) {
        let old = entries[key]
        entries[key] = entry
        guard recordsChanges, !changeLogOverflowed, old != entry else { return }
        if changeLog.count >= Self.changeLogLimit {
            changeLogOverflowed = true
            changeLog = []
        } else {
            changeLog.append(EntryChange(key: key, old: old, new: entry))
        }
    }

    /// Writes a value of this node's and returns the entry to broadcast. `floor` (a wall-clock reading, say) keeps
    /// the clock ahead of versions this node wrote before a restart, which its fresh table no longer knows.
    /// `sign` gives the entry's signature, stored with it.
    public mutating func put(
        _ key: String, _ value: Value, owner: String? = nil, floor: UInt64 = 0,
        sign: (ReplicatedEntry<Value>) -> [UInt8] = { _ in [] }
    ) -> ReplicatedEntry<Value> {
        write(key, value: value, owner: owner ?? node, floor: floor, at: nil, sign: sign)
    }

    /// Deletes a key (leaving a tombstone) and returns the tombstone to broadcast; nil if there was nothing.
    public mutating func delete(
        _ key: String, at now: Double, floor: UInt64 = 0, sign: (ReplicatedEntry<Value>) -> [UInt8] = { _ in [] }
    ) -> ReplicatedEntry<Value>? {
        guard let existing = entries[key], !existing.isTombstone else { return nil }
        return write(key, value: nil, owner: existing.owner, floor: floor, at: now, sign: sign)
    }

    /// Writes a tombstone of this node's for `key` whether or not the table holds the key: this node's answer to
    /// a copy of an entry about it that it does not hold (written before a restart, or forged).
    public mutating func bury(
        _ key: String, at now: Double, floor: UInt64 = 0, sign: (ReplicatedEntry<Value>) -> [UInt8] = { _ in [] }
    ) -> ReplicatedEntry<Value> {
        write(key, value: nil, owner: node, floor: floor, at: now, sign: sign)
    }

    /// A local write one above the highest clock seen (saturating: a clock at its maximum stays there) and at
    /// least `floor`.
    private mutating func write(
        _ key: String, value: Value?, owner: String, floor: UInt64, at now: Double?, sign: (ReplicatedEntry<Value>) -> [UInt8]
    ) -> ReplicatedEntry<Value> {
        let (next, overflow) = clock.addingReportingOverflow(1)
        clock = max(overflow ? UInt64.max : next, floor)
        var entry = ReplicatedEntry<Value>(version: EntryVersion(clock: clock, node: node), owner: owner, value: value)
        entry.signature = sign(entry)
        set(key, entry)
        tombstonedAt[key] = value == nil ? now : nil
        return entry
    }

    /// Merges an entry from another host; true when it changed the table (and so is worth passing on).
    @discardableResult
    public mutating func merge(_ key: String, _ entry: ReplicatedEntry<Value>, at now: Double) -> Bool {
        clock = max(clock, entry.version.clock)
        if let existing = entries[key], existing.version >= entry.version { return false }
        set(key, entry)
        tombstonedAt[key] = entry.isTombstone ? now : nil
        return true
    }

    /// Merges a whole table (push-pull); returns the keys that changed.
    public mutating func merge(_ remote: [String: ReplicatedEntry<Value>], at now: Double) -> [String] {
        remote.keys.sorted().filter { merge($0, remote[$0]!, at: now) }
    }

    /// Live values: not deleted, and not owned by a suspended node.
    public var live: [String: Value] {
        entries.compactMapValues { entry in
            suspendedOwners.contains(entry.owner) ? nil : entry.value
        }
    }

    /// Marks a failed node's entries as not live, without forgetting them.
    public mutating func suspend(owner: String) { suspendedOwners.insert(owner) }

    /// A suspended node came back: its entries are live again.
    public mutating func restore(owner: String) { suspendedOwners.remove(owner) }

    /// Forgets every entry of a node that is gone for good (left, or failed past the grace period); returns the
    /// keys removed. Nothing is broadcast: every host purges on the same membership event.
    @discardableResult
    public mutating func purge(owner: String) -> [String] {
        let keys = entries.filter { $0.value.owner == owner }.map(\.key)
        for key in keys {
            set(key, nil)
            tombstonedAt[key] = nil
        }
        suspendedOwners.remove(owner)
        return keys.sorted()
    }

    /// Drops tombstones older than `lifetime`.
    public mutating func expireTombstones(olderThan lifetime: Double, at now: Double) {
        for (key, since) in tombstonedAt where now - since >= lifetime {
            set(key, nil)
            tombstonedAt[key] = nil
        }
    }

    public static func == (lhs: ReplicatedTable, rhs: ReplicatedTable) -> Bool {
        lhs.entries == rhs.entries && lhs.suspendedOwners == rhs.suspendedOwners
    }
}
