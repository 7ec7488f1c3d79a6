import Glibc
import Logging
import Overlay

/// `--encryption-key-rotation`: replaces this host's WireGuard key once it is that old. The age is the key
/// file's, so a restart neither postpones a rotation nor repeats one.
enum KeyRotationSchedule {
    /// After a failed rotation, the next attempt waits this long.
    static let retry: Duration = .seconds(60)

    static func run(driver: OverlayDriver, every interval: Duration, keyDirectory: String, logger: Logger) async {
        while !Task.isCancelled {
            let age = keyAge(directory: keyDirectory) ?? .zero
            if age < interval {
                do { try await Task.sleep(for: interval - age) } catch { return }
                continue
            }
            do {
                let result = try await driver.rotateWireGuardKey()
                logger.notice("WireGuard key rotated on schedule", metadata: [
                    "every": "\(interval)", "public-key": "\(result.publicKey)", "networks": "\(result.announcedNetworks)"])
                // Never sooner than one interval after a rotation, even where the key is not saved (a dry run).
                do { try await Task.sleep(for: interval) } catch { return }
            } catch {
                logger.error("WireGuard key rotation on schedule failed", metadata: ["error": "\(error)", "retry-in": "\(retry)"])
                do { try await Task.sleep(for: retry) } catch { return }
            }
        }
    }

    /// How long ago the key file was written; nil when it cannot be read.
    static func keyAge(directory: String) -> Duration? {
        var info = stat()
        guard stat(directory + "/" + WireGuardKeyPair.fileName, &info) == 0 else { return nil }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let seconds = Int64(now.tv_sec) - Int64(info.st_mtim.tv_sec)
        return .seconds(max(0, seconds))
    }
}
