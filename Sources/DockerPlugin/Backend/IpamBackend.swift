/// What the plugin server dispatches IpamDriver calls to. ``AllocatorIpamBackend`` implements it on top of an
/// `Overlay.AddressAllocator`; tests implement it with a recorder.
///
/// Every method may throw: the error's `description` reaches Docker as the reply's `Err`, prefixed with the pool
/// or address concerned.
public protocol IpamBackend: Sendable {
    /// `GetCapabilities`, at registration.
    func capabilities() async throws -> IpamCapabilities
    /// `GetDefaultAddressSpaces`, at registration; a failure makes the registration fail.
    func defaultAddressSpaces() async throws -> DefaultAddressSpaces
    /// `RequestPool`: reserve the requested subnet, or pick one.
    func requestPool(_ request: RequestPoolRequest) async throws -> RequestPoolResponse
    /// `ReleasePool` (failures are only logged by Docker).
    func releasePool(_ request: ReleasePoolRequest) async throws
    /// `RequestAddress`: the gateway, an aux address, or an endpoint's address.
    func requestAddress(_ request: RequestAddressRequest) async throws -> RequestAddressResponse
    /// `ReleaseAddress` (failures are only logged by Docker).
    func releaseAddress(_ request: ReleaseAddressRequest) async throws
}
