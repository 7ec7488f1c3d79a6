import Gossip
import Logging

/// SIGHUP: the key file becomes the node's keyring — its keys installed, its first the primary, keys no longer
/// in it removed — in that order, so traffic under any key in the file keeps flowing.
enum KeyReload {
    static func reload(node: GossipNode, from file: GossipKeyFile, logger: Logger) async {
        let wanted: [[UInt8]]
        do { wanted = try file.read() } catch {
            logger.error("SIGHUP: the gossip keys stay as they were", metadata: ["error": "\(error)"])
            return
        }
        do {
            for key in wanted { try await node.installKey(key) }
            try await node.useKey(wanted[0])
            for key in await node.keys where !wanted.contains(key) { try await node.removeKey(key) }
            logger.notice(
                "SIGHUP: gossip keys reloaded",
                metadata: ["keys": "\(wanted.count)", "primary": "\(GossipKey.fingerprint(wanted[0]))", "from": "\(file.path)"])
        } catch {
            logger.error("SIGHUP: reloading the gossip keys failed", metadata: ["error": "\(error)"])
        }
    }
}
