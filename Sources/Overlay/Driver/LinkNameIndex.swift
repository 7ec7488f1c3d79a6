/// The endpoints by the part of their ID their link names hold (``KernelLayout/linkNameIDLength`` bytes), so the
/// check that a new endpoint's links are not another's costs one lookup, not a pass over every endpoint.
///
/// The driver keeps it in step with the endpoint records it saves; ``matches(_:)`` tells when it is not (another
/// writer of the state), and the driver then builds it again from the records.
struct LinkNameIndex {
    private var owners: [[UInt8]: Set<String>] = [:]
    /// The endpoints indexed.
    private(set) var count = 0

    init() {}

    init(_ ids: some Sequence<String>) {
        for id in ids { insert(id) }
    }

    private static func key(_ id: String) -> [UInt8] { Array(id.utf8.prefix(KernelLayout.linkNameIDLength)) }

    mutating func insert(_ id: String) {
        if owners[Self.key(id), default: []].insert(id).inserted { count += 1 }
    }

    mutating func remove(_ id: String) {
        let key = Self.key(id)
        guard owners[key]?.remove(id) != nil else { return }
        count -= 1
        if owners[key]?.isEmpty == true { owners[key] = nil }
    }

    /// Whether the index holds as many endpoints as `endpoints` (a cheap check that nothing bypassed it).
    func matches(_ endpoints: [String: EndpointRecord]) -> Bool { count == endpoints.count }

    /// The other endpoints whose link names would be those of `id`.
    func sharingLinkNames(with id: String) -> [String] {
        owners[Self.key(id)].map { $0.filter { $0 != id }.sorted() } ?? []
    }
}
