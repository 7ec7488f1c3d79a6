/// The difference between two dictionaries as the entries set (added or changed) and the keys removed: what a
/// journal entry records so that one change costs the size of the change, not of the dictionary.
///
/// Applying a delta is idempotent: applying it twice gives the same dictionary as applying it once.
struct KeyedDelta<Key: Hashable & Codable & Sendable, Value: Equatable & Codable & Sendable>: Codable, Sendable, Equatable {
    var set: [Key: Value] = [:]
    var removed: [Key] = []

    init(set: [Key: Value] = [:], removed: [Key] = []) {
        self.set = set
        self.removed = removed
    }

    /// The delta that turns `old` into `new`, or nil when they are equal.
    init?(from old: [Key: Value], to new: [Key: Value]) {
        for (key, value) in new where old[key] != value { set[key] = value }
        for key in old.keys where new[key] == nil { removed.append(key) }
        if set.isEmpty && removed.isEmpty { return nil }
    }

    func apply(to dictionary: inout [Key: Value]) {
        for key in removed { dictionary[key] = nil }
        for (key, value) in set { dictionary[key] = value }
    }
}
