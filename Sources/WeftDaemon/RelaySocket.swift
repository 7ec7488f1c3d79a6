import Foundation
import Glibc
import Netlink
import Overlay
import Synchronization

/// weft's UDP socket on the relay port (IPv4): it receives what other hosts relay through this host and the
/// answers to this host's data-path probes, and sends both the probes and the relayed packets. A thread of its own
/// reads it (a blocking `recvfrom`); every packet is judged by the current ``RelayTable`` and the per-sender rate
/// limit, and forwarded unchanged with `sendto(2)`, whose errors (a firewall's `EPERM`, `ENETUNREACH`) drop that
/// packet only and are counted.
final class RelaySocket: Sendable {
    /// What happened to received packets since the last ``takeCounts()``.
    struct Counts: Sendable {
        var forwarded = 0
        var probeAnswers = 0
        var sendErrors = 0
        var dropped: [RelayDrop: Int] = [:]
    }

    private struct State {
        var table: RelayTable
        var limit: RelayRateLimit
        var counts = Counts()
        /// The latest probe answer from each peer since the last ``takeAnswers()`` (at most ``maxAnswers``).
        var answers: [IPAddress: ContinuousClock.Instant] = [:]
    }

    static let maxAnswers = 4096

    let local: IPAddress
    let vxlanPort: UInt16
    private let fd: CInt
    private let state: Mutex<State>
    private let closed = Atomic<Bool>(false)

    enum SocketError: Error, CustomStringConvertible {
        case notIPv4(IPAddress)
        case bindFailed(String)
        var description: String {
            switch self {
            case .notIPv4(let address): "the relay socket needs an IPv4 advertise address, not \(address)"
            case .bindFailed(let reason): "cannot bind the relay socket: \(reason)"
            }
        }
    }

    /// Binds `local`:`port`. `rate` and `burst` bound the packets a second relayed for one sender.
    init(local: IPAddress, port: UInt16, vxlanPort: UInt16, rate: Double = 50_000, burst: Double = 5_000) throws(SocketError) {
        guard case .v4 = local else { throw .notIPv4(local) }
        let socket = Glibc.socket(AF_INET, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw .bindFailed("socket: \(String(cString: strerror(errno)))") }
        var one: CInt = 1
        var buffer: CInt = 4 << 20
        let size = socklen_t(MemoryLayout<CInt>.size)
        var address = Self.socketAddress(local, port)
        let bound = setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &one, size) == 0
            && setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &buffer, size) == 0
            && withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
        guard bound else {
            let reason = String(cString: strerror(errno))
            close(socket)
            throw .bindFailed("\(local):\(port): \(reason)")
        }
        self.fd = socket
        self.local = local
        self.vxlanPort = vxlanPort
        self.state = Mutex(State(table: RelayTable(local: local), limit: RelayRateLimit(rate: rate, burst: burst)))
    }

    /// Starts the reading thread.
    func start() {
        let thread = Thread { [self] in self.readLoop() }
        thread.name = "weft-relay"
        thread.start()
    }

    /// Stops reading and closes the socket.
    func stop() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(fd, CInt(SHUT_RDWR))
    }

    func update(_ table: RelayTable) {
        state.withLock { $0.table = table }
    }

    /// The probe answers that arrived since the last call: each peer's latest, and when it arrived.
    func takeAnswers() -> [IPAddress: ContinuousClock.Instant] {
        state.withLock { state in
            defer { state.answers = [:] }
            return state.answers
        }
    }

    func takeCounts() -> Counts {
        state.withLock { state in
            defer { state.counts = Counts() }
            return state.counts
        }
    }

    /// Sends `bytes` to `address`:`port`; false (and counted) when the kernel refuses it.
    @discardableResult
    func send(_ bytes: [UInt8], to address: IPAddress, port: UInt16) -> Bool {
        var destination = Self.socketAddress(address, port)
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &destination) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buffer.baseAddress, buffer.count, CInt(MSG_NOSIGNAL), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        if sent < 0 { state.withLock { $0.counts.sendErrors += 1 } }
        return sent >= 0
    }

    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: RelayTable.maxPacket + 1)
        let start = ContinuousClock.now
        while !closed.load(ordering: .acquiring) {
            var source = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &source) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, raw.baseAddress, raw.count, 0, $0, &length) }
                }
            }
            if count < 0 {
                if errno == EINTR { continue }
                break
            }
            if count == 0, closed.load(ordering: .acquiring) { break }
            let sender = IPAddress.v4(IPv4Address(UInt32(bigEndian: source.sin_addr.s_addr)))
            let packet = Array(buffer[0..<min(count, buffer.count)])
            let arrived = ContinuousClock.now
            let elapsed = arrived - start
            let now = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let decision = state.withLock { state -> RelayDecision in
                let decision = state.table.decide(packet, from: sender)
                guard case .forward = decision else { return decision }
                return state.limit.admit(sender, now: now) ? decision : .drop(.rateLimited)
            }
            switch decision {
            case .forward(let targets):
                var sent = 0
                for target in targets where send(packet, to: target, port: vxlanPort) { sent += 1 }
                state.withLock { $0.counts.forwarded += sent }
            case .probeAnswer(let peer):
                state.withLock { state in
                    state.counts.probeAnswers += 1
                    if state.answers.count < Self.maxAnswers || state.answers[peer] != nil { state.answers[peer] = arrived }
                }
            case .drop(let reason):
                state.withLock { $0.counts.dropped[reason, default: 0] += 1 }
            }
        }
        close(fd)
    }

    private static func socketAddress(_ address: IPAddress, _ port: UInt16) -> sockaddr_in {
        var result = sockaddr_in()
        result.sin_family = sa_family_t(AF_INET)
        result.sin_port = port.bigEndian
        let bytes = address.bytes
        if bytes.count == 4 {
            withUnsafeMutableBytes(of: &result.sin_addr.s_addr) { for index in 0..<4 { $0[index] = bytes[index] } }
        }
        return result
    }
}
