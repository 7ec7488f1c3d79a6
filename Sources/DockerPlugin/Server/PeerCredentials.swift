import Glibc
import NIOCore

/// The user at the other end of a Unix socket connection, as the kernel reports it (`SO_PEERCRED`).
enum PeerCredentials {
    /// `struct ucred` (pid, uid, gid), which Glibc's module hides behind `_GNU_SOURCE`: same fields, same layout.
    struct Credentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// The peer's user ID, or `nil` when the channel is not a socket or the kernel does not say.
    static func userID(of channel: any Channel) -> EventLoopFuture<UInt32?> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let future: EventLoopFuture<Credentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { credentials -> UInt32? in credentials.uid }.recover { _ -> UInt32? in nil }
    }
}
