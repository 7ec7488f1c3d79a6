extension SimulatedKernel {
    /// One namespace of the model. Its link table keeps a name index and each bridge's ports in step with every
    /// change, so finding a link by name or deleting a bridge costs what the one link touches, not the table.
    struct Namespace {
        private(set) var links: [Int32: SimulatedLink] = [:]
        private var indexByName: [String: Int32] = [:]
        private var portsByMaster: [Int32: Set<Int32>] = [:]
        var addresses: [Int32: [IPInterface]] = [:]
        var fdb = SimulatedFDB()
        var neighbours = SimulatedNeighbours()

        func index(named name: String) -> Int32? { indexByName[name] }

        /// Adds a link under its own index and name.
        mutating func insert(_ entry: SimulatedLink) {
            let index = entry.link.index
            links[index] = entry
            indexByName[entry.link.name] = index
            if let master = entry.link.master { portsByMaster[master, default: []].insert(index) }
        }

        /// Removes a link; its ports, if it is a bridge, leave it.
        @discardableResult
        mutating func removeLink(_ index: Int32) -> SimulatedLink? {
            guard let removed = links.removeValue(forKey: index) else { return nil }
            if indexByName[removed.link.name] == index { indexByName[removed.link.name] = nil }
            if let master = removed.link.master { detach(index, from: master) }
            for port in portsByMaster.removeValue(forKey: index) ?? [] { links[port]?.link.master = nil }
            return removed
        }

        /// Changes a link in place (its name and master included); nothing happens when the index is unknown.
        mutating func update(_ index: Int32, _ change: (inout SimulatedLink) -> Void) {
            guard let before = links[index]?.link else { return }
            change(&links[index]!)
            let after = links[index]!.link
            precondition(after.index == index, "a link's index changes only by moving it")
            if after.name != before.name {
                if indexByName[before.name] == index { indexByName[before.name] = nil }
                indexByName[after.name] = index
            }
            if after.master != before.master {
                if let master = before.master { detach(index, from: master) }
                if let master = after.master { portsByMaster[master, default: []].insert(index) }
            }
        }

        private mutating func detach(_ port: Int32, from master: Int32) {
            portsByMaster[master]?.remove(port)
            if portsByMaster[master]?.isEmpty == true { portsByMaster[master] = nil }
        }
    }
}
