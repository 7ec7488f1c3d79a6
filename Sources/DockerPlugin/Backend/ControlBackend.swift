/// weft's own control calls, served on the plugin socket beside Docker's API (`POST /Weft.<Call>`), for the
/// `weft` command to reach a running daemon. The socket is root-only, like the daemon's other powers.
public protocol ControlBackend: Sendable {
    /// Joins more gossip seeds (`host[:port]`); returns how many answered.
    func join(seeds: [String]) async throws -> Int
}

/// `POST /Weft.Join` body.
public struct JoinSeedsRequest: Codable, Sendable, Equatable {
    public var seeds: [String]

    public init(seeds: [String]) { self.seeds = seeds }

    enum CodingKeys: String, CodingKey { case seeds = "Seeds" }
}

/// `POST /Weft.Join` reply.
public struct JoinSeedsResponse: Codable, Sendable, Equatable {
    public var answered: Int

    public init(answered: Int) { self.answered = answered }

    enum CodingKeys: String, CodingKey { case answered = "Answered" }
}
