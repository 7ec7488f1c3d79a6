/// memberlist's `TransmitLimitedQueue` (`queue.go`): messages waiting to be piggy-backed on pings, acks and
/// gossip, each sent at most `retransmitLimit` times in total.
///
/// A message with a key replaces any queued message with the same key (memberlist's named broadcasts: an
/// alive, suspect or dead about node X replaces older ones about X; an application record replaces its older
/// version). Fresh messages go first; within a transmit tier, larger first so packing fills packets, then newest.
struct BroadcastQueue: Sendable {
    struct Item: Sendable {
        var id: UInt64
        var key: String?
        var message: [UInt8]
        var transmits: Int
    }

    fileprivate(set) var items: [Item] = []
    private var nextID: UInt64 = 0
    /// The most messages queued at once; above it the message sent most often (the oldest among those) goes.
    let capacity: Int
    /// Messages dropped to stay within ``capacity``.
    private(set) var evicted = 0

    /// Makes an empty queue holding at most `capacity` messages.
    init(capacity: Int = .max) {
        self.capacity = max(1, capacity)
    }

    /// How many messages are queued.
    var count: Int { items.count }

    /// Queues `message`, replacing a queued message with the same `key`. Returns the item's id.
    @discardableResult
    mutating func enqueue(_ message: [UInt8], key: String?) -> UInt64 {
        if let key { items.removeAll { $0.key == key } }
        if items.count >= capacity, let index = items.indices.max(by: {
            (items[$0].transmits, items[$1].id) < (items[$1].transmits, items[$0].id)
        }) {
            items.remove(at: index)
            evicted += 1
        }
        nextID += 1
        items.append(Item(id: nextID, key: key, message: message, transmits: 0))
        return nextID
    }

    /// Whether the item with `id` is still waiting to be (re)transmitted.
    func contains(id: UInt64) -> Bool {
        items.contains { $0.id == id }
    }

    /// Removes every queued message.
    mutating func reset() {
        items.removeAll()
    }

    /// Takes messages that fit in `limit` bytes, counting `overhead` bytes for each, and charges one transmit to
    /// each; messages that reach `transmitLimit` are dropped.
    mutating func take(overhead: Int, limit: Int, transmitLimit: Int) -> [[UInt8]] {
        guard !items.isEmpty else { return [] }
        items.sort { a, b in
            if a.transmits != b.transmits { return a.transmits < b.transmits }
            if a.message.count != b.message.count { return a.message.count > b.message.count }
            return a.id > b.id
        }
        var used = 0
        var taken: [[UInt8]] = []
        var spent: Set<UInt64> = []
        for index in items.indices {
            let item = items[index]
            guard used + overhead + item.message.count <= limit else { continue }
            used += overhead + item.message.count
            taken.append(item.message)
            items[index].transmits += 1
            if items[index].transmits >= transmitLimit { spent.insert(item.id) }
            if used + overhead >= limit { break }
        }
        if !spent.isEmpty { items.removeAll { spent.contains($0.id) } }
        return taken
    }
}

extension BroadcastQueue {
    /// The id of the queued message with `key`, if any.
    func id(forKey key: String) -> UInt64? {
        items.first { $0.key == key }?.id
    }
}
