/// An IPAM request worked out against the state without changing it: the answer for Docker and the delta that
/// makes it (nil when the state stays as it is). The allocators hand the delta to the ``StateStore`` so an
/// allocation costs the size of the change, not of the state; ``AllocatorState``'s own mutating calls apply it
/// in place, so both take the same path.
struct AllocatorChange<Answer> {
    var result: Answer
    var delta: AllocatorDelta?
}
