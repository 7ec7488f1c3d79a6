#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// memberlist's timing formulas (`util.go`, `suspicion.go`), as pure functions so they can be tested alone.
public enum LifeguardTiming {
    /// How many times a broadcast is sent: `mult × ceil(log10(n + 1))`. With mult 4: n 1…9 → 4, 10…99 → 8.
    public static func retransmitLimit(multiplier: Int, nodeCount: Int) -> Int {
        let scale = Int((log10(Double(max(0, nodeCount) + 1))).rounded(.up))
        return multiplier * scale
    }

    /// The shortest suspicion timeout: `mult × max(1, log10(max(1, n))) × interval`, the node scale kept to
    /// millisecond precision as Go does (`time.Duration(nodeScale*1000) * interval / 1000`).
    public static func suspicionTimeout(multiplier: Int, nodeCount: Int, interval: Duration) -> Duration {
        let nodeScale = max(1.0, log10(Double(max(1, nodeCount))))
        let milliScale = Int64(nodeScale * 1000)
        return interval * Int(multiplier) * Int(milliScale) / 1000
    }

    /// How many independent confirmations shorten a suspicion: `SuspicionMult − 2`, or 0 when the cluster
    /// has too few other nodes to confirm (`n − 2 < k`).
    public static func suspicionConfirmationsWanted(multiplier: Int, nodeCount: Int) -> Int {
        let k = multiplier - 2
        return nodeCount - 2 < k ? 0 : max(0, k)
    }

    /// The suspicion timeout after `confirmations` of `wanted` independent confirmations:
    /// `max − (ln(c + 1) / ln(k + 1)) × (max − min)`, floored to milliseconds and never below `min`.
    /// With no confirmations wanted the timeout is `min`.
    public static func suspicionTimeout(
        confirmations: Int, wanted: Int, minimum: Duration, maximum: Duration
    ) -> Duration {
        guard wanted > 0 else { return minimum }
        let fraction = log(Double(confirmations) + 1) / log(Double(wanted) + 1)
        let raw = maximum.seconds - fraction * (maximum.seconds - minimum.seconds)
        let timeout = Duration.milliseconds(Int64((1000 * raw).rounded(.down)))
        return max(timeout, minimum)
    }

    /// The push/pull interval for `n` nodes: the interval up to 32 nodes, then
    /// `(ceil(log2 n − log2 32) + 1) × interval`, so that large clusters do not flood each other.
    public static func pushPullInterval(_ interval: Duration, nodeCount: Int) -> Duration {
        let threshold = 32
        guard nodeCount > threshold else { return interval }
        let multiplier = (log2(Double(nodeCount)) - log2(Double(threshold))).rounded(.up) + 1
        return interval * multiplier
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
