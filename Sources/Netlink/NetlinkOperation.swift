/// How an FDB or neighbour write treats an existing entry for the same key.
public enum WriteMode: Hashable, Sendable {
    /// Fail with `alreadyExists` if the entry exists (`NLM_F_EXCL`).
    case add
    /// Create or overwrite (`NLM_F_REPLACE`).
    case replace
    /// Add another destination for the same MAC (`NLM_F_APPEND`): head-end replication to several VTEPs.
    case append
}

/// One change to the kernel's state that rtnetlink acknowledges. Operations are batched and sent as one
/// message each; the dry-run transport decodes them back from the bytes to print them.
public enum NetlinkOperation: Hashable, Sendable, CustomStringConvertible {
    case createLink(LinkSpec)
    case deleteLink(LinkReference)
    case setLink(LinkReference, LinkChanges)
    case setBridgePort(LinkReference, BridgePortChanges)
    case addAddress(IPInterface, device: LinkReference)
    case deleteAddress(IPInterface, device: LinkReference)
    case writeFDB(FDBEntry, WriteMode)
    case deleteFDB(FDBEntry)
    case writeNeighbour(NeighbourEntry, WriteMode)
    case deleteNeighbour(NeighbourEntry)

    /// The object the operation acts on, as errors name it: "vxlan wvx-00002a", "fdb 02:… dev wvx-2a dst …".
    public var description: String {
        switch self {
        case .createLink(let spec): "\(spec.kind.kernelName) \(spec.name)"
        case .deleteLink(let link), .setLink(let link, _): "link \(link)"
        case .setBridgePort(let link, _): "bridge port \(link)"
        case .addAddress(let address, let device), .deleteAddress(let address, let device):
            "address \(address) dev \(device)"
        case .writeFDB(let entry, _), .deleteFDB(let entry): entry.description
        case .writeNeighbour(let entry, _), .deleteNeighbour(let entry): entry.description
        }
    }

    /// Every link the operation refers to by reference, so names can be resolved to indexes before encoding.
    var linkReferences: [LinkReference] {
        switch self {
        case .createLink(let spec):
            if case .vxlan(let config) = spec.kind, let lower = config.lowerDevice { return [lower] }
            return []
        case .deleteLink(let link), .setBridgePort(let link, _): return [link]
        case .setLink(let link, let changes):
            if case .bridge(let master) = changes.master { return [link, master] }
            return [link]
        case .addAddress(_, let device), .deleteAddress(_, let device): return [device]
        case .writeFDB(let entry, _), .deleteFDB(let entry): return [entry.device]
        case .writeNeighbour(let entry, _), .deleteNeighbour(let entry): return [entry.device]
        }
    }

    /// The same operation with every link reference passed through `resolve`.
    func mapLinks<E: Error>(_ resolve: (LinkReference) throws(E) -> LinkReference) throws(E) -> NetlinkOperation {
        switch self {
        case .createLink(var spec):
            if case .vxlan(var config) = spec.kind, let lower = config.lowerDevice {
                config.lowerDevice = try resolve(lower)
                spec.kind = .vxlan(config)
            }
            return .createLink(spec)
        case .deleteLink(let link): return .deleteLink(try resolve(link))
        case .setLink(let link, var changes):
            if case .bridge(let master) = changes.master { changes.master = .bridge(try resolve(master)) }
            return .setLink(try resolve(link), changes)
        case .setBridgePort(let link, let changes): return .setBridgePort(try resolve(link), changes)
        case .addAddress(let address, let device): return .addAddress(address, device: try resolve(device))
        case .deleteAddress(let address, let device): return .deleteAddress(address, device: try resolve(device))
        case .writeFDB(var entry, let mode):
            entry.device = try resolve(entry.device)
            return .writeFDB(entry, mode)
        case .deleteFDB(var entry):
            entry.device = try resolve(entry.device)
            return .deleteFDB(entry)
        case .writeNeighbour(var entry, let mode):
            entry.device = try resolve(entry.device)
            return .writeNeighbour(entry, mode)
        case .deleteNeighbour(var entry):
            entry.device = try resolve(entry.device)
            return .deleteNeighbour(entry)
        }
    }
}
