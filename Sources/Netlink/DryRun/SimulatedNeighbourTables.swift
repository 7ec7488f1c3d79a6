import Glibc

/// An entry of a simulated table with the position it was written at: dumps list entries in the order the
/// kernel model received them, while the tables are keyed so that writes and deletes are lookups.
struct Sequenced<Entry> {
    var sequence: UInt64
    var entry: Entry
}

/// The FDB of one simulated namespace, keyed by device, MAC and table (several entries share a key when
/// appended with different destinations), and indexed by the links entries hang off (device or bridge master).
struct SimulatedFDB {
    struct Key: Hashable {
        var device: Int32
        var mac: MACAddress
        var table: FDBTable
    }

    private var entries: [Key: [Sequenced<FDBEntry>]] = [:]
    private var keysByLink: [Int32: Set<Key>] = [:]
    private var nextSequence: UInt64 = 0

    /// Writes an entry of `device` (its reference already resolved); returns 0 or the errno the kernel would give.
    mutating func write(_ entry: FDBEntry, on device: Int32, mode: WriteMode) -> Int32 {
        let key = Key(device: device, mac: entry.mac, table: entry.table)
        var list = entries[key] ?? []
        switch mode {
        case .add:
            if !list.isEmpty { return EEXIST }
            list.append(sequenced(entry))
        case .replace:
            if list.isEmpty { list.append(sequenced(entry)) } else { list[0].entry = entry }
        case .append:
            if list.contains(where: { $0.entry.destination == entry.destination && $0.entry.port == entry.port }) {
                return 0
            }
            list.append(sequenced(entry))
        }
        store(list, at: key)
        return 0
    }

    /// Appends entries of `device` after all others, as a link moved in brings its own FDB.
    mutating func append(_ moved: [FDBEntry], on device: Int32) {
        for entry in moved {
            let key = Key(device: device, mac: entry.mac, table: entry.table)
            store((entries[key] ?? []) + [sequenced(entry)], at: key)
        }
    }

    /// Deletes the entries `entry` names (every destination when it names none); false when there was none.
    mutating func delete(_ entry: FDBEntry, on device: Int32) -> Bool {
        let key = Key(device: device, mac: entry.mac, table: entry.table)
        guard let list = entries[key] else { return false }
        let kept = list.filter {
            entry.destination != nil && ($0.entry.destination != entry.destination || $0.entry.port != entry.port)
        }
        store(kept, at: key)
        return kept.count != list.count
    }

    /// Removes every entry of `link` and every entry whose bridge master it is, as unregistering it does.
    mutating func removeAll(of link: Int32) {
        for key in keysByLink[link] ?? [] {
            let kept = (entries[key] ?? []).filter { $0.entry.device != .index(link) && $0.entry.master != link }
            store(kept, at: key)
        }
    }

    /// The device-table entries of `device`, in the order they were written.
    func deviceEntries(of device: Int32) -> [FDBEntry] {
        (keysByLink[device] ?? []).filter { $0.device == device && $0.table == .device }
            .flatMap { entries[$0] ?? [] }.sorted { $0.sequence < $1.sequence }.map(\.entry)
    }

    /// Every entry, in the order they were written.
    func dump() -> [FDBEntry] {
        entries.values.joined().sorted { $0.sequence < $1.sequence }.map(\.entry)
    }

    private mutating func sequenced(_ entry: FDBEntry) -> Sequenced<FDBEntry> {
        nextSequence += 1
        return Sequenced(sequence: nextSequence, entry: entry)
    }

    /// Sets the entries of a key and keeps the by-link index in step with them.
    private mutating func store(_ list: [Sequenced<FDBEntry>], at key: Key) {
        let before = Self.links(of: entries[key] ?? [], key)
        let after = Self.links(of: list, key)
        entries[key] = list.isEmpty ? nil : list
        for link in before.subtracting(after) {
            keysByLink[link]?.remove(key)
            if keysByLink[link]?.isEmpty == true { keysByLink[link] = nil }
        }
        for link in after.subtracting(before) { keysByLink[link, default: []].insert(key) }
    }

    private static func links(of list: [Sequenced<FDBEntry>], _ key: Key) -> Set<Int32> {
        list.isEmpty ? [] : Set([key.device] + list.compactMap(\.entry.master))
    }
}

/// The neighbour table of one simulated namespace, keyed by device and address, indexed by device.
struct SimulatedNeighbours {
    struct Key: Hashable {
        var device: Int32
        var address: IPAddress
    }

    private var entries: [Key: Sequenced<NeighbourEntry>] = [:]
    private var addressesByDevice: [Int32: Set<IPAddress>] = [:]
    private var nextSequence: UInt64 = 0

    /// Writes an entry of `device` (its reference already resolved); returns 0 or the errno the kernel would give.
    mutating func write(_ entry: NeighbourEntry, on device: Int32, mode: WriteMode) -> Int32 {
        let key = Key(device: device, address: entry.address)
        if entries[key] != nil {
            if mode == .add { return EEXIST }
            entries[key]!.entry = entry
        } else {
            nextSequence += 1
            entries[key] = Sequenced(sequence: nextSequence, entry: entry)
            addressesByDevice[device, default: []].insert(entry.address)
        }
        return 0
    }

    /// Deletes the entry of `address` on `device`; false when there was none.
    mutating func delete(_ address: IPAddress, on device: Int32) -> Bool {
        guard entries.removeValue(forKey: Key(device: device, address: address)) != nil else { return false }
        addressesByDevice[device]?.remove(address)
        if addressesByDevice[device]?.isEmpty == true { addressesByDevice[device] = nil }
        return true
    }

    /// Removes every entry of `device`, as unregistering it does.
    mutating func removeAll(of device: Int32) {
        for address in addressesByDevice.removeValue(forKey: device) ?? [] {
            entries[Key(device: device, address: address)] = nil
        }
    }

    /// Every entry, in the order they were first written.
    func dump() -> [NeighbourEntry] {
        entries.values.sorted { $0.sequence < $1.sequence }.map(\.entry)
    }
}
