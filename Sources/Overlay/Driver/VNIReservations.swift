import Netlink

/// The VNIs that CreateNetwork or AllocateNetwork requests in progress have claimed but not saved yet.
///
/// The driver actor is reentrant at every `await`: a request that checked a VNI free and then waits (for the
/// cluster's view) would otherwise race a second request for the same VNI. A request reserves before its first
/// await and releases when it ends, so every other request sees the claim.
struct VNIReservations {
    struct Claim: Equatable {
        var network: String
        var subnet: IPv4Subnet
    }

    private var claims: [VNI: Claim] = [:]

    /// The claim on `vni`, if a request holds one.
    subscript(vni: VNI) -> Claim? { claims[vni] }

    /// How many requests hold a claim.
    var count: Int { claims.count }

    /// Whether a request for network `id` is in progress.
    func isReserved(network id: String) -> Bool { claims.values.contains { $0.network == id } }

    /// Claims `vni` when it is free; otherwise leaves it and returns the claim that holds it.
    mutating func reserve(_ vni: VNI, for claim: Claim) -> Claim? {
        if let holder = claims[vni] { return holder }
        claims[vni] = claim
        return nil
    }

    mutating func release(_ vni: VNI) { claims[vni] = nil }
}
