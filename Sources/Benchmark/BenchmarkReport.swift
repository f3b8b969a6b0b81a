import Foundation

/// The results of one benchmark run, printable as the README's table.
public struct BenchmarkReport: Sendable, CustomStringConvertible {
    let configuration: PermissionsBenchmark.Configuration
    /// The bulk load without and with the change events.
    let eventCost: ChangeEventCost.Result
    let baseline: LatencySummary
    let check: LatencySummary
    /// `auth.has_resource_permission` over the data set's resource grants, if it has any.
    let resourceCheck: LatencySummary?
    /// Each task holds one pooled connection for its loop, as pgbench clients do.
    let swift: LatencySummary
    /// Each check leases a connection from the pool.
    let swiftLeasePerCall: LatencySummary
    let cache: CacheBenchmark.Result
    let writes: [(String, Duration)]
    let bufferHits: Int?
    let deniedShare: Double
    let serverVersion: String

    /// `has_permission` throughput over the baseline's (target: at least 0.85).
    public var checkToBaseline: Double { check.callsPerSecond / baseline.callsPerSecond }
    /// Swift end-to-end throughput over pgbench's for the same check (target: at least 0.70).
    public var swiftToPgbench: Double { swift.callsPerSecond / check.callsPerSecond }

    public var description: String {
        func row(_ summary: LatencySummary, _ ratio: String) -> String {
            "| \(summary.name) | \(Int(summary.callsPerSecond).formatted()) | "
                + String(format: "%.3f | %.3f | %.3f", summary.p50, summary.p95, summary.p99) + " | \(ratio) |"
        }
        let percent = { (value: Double) in String(format: "%.0f%%", value * 100) }
        var lines = [
            "pgperm bench: \(configuration.scale), \(configuration.clients) clients, \(configuration.seconds) s per run, "
                + "median of \(configuration.rounds) alternating pgbench rounds, "
                + "PostgreSQL \(serverVersion), \(ProcessInfo.processInfo.activeProcessorCount) cores",
            "",
            "| check | calls/s | p50 ms | p95 ms | p99 ms | ratio |",
            "|---|---:|---:|---:|---:|---:|",
            row(baseline, "100%"),
            row(check, percent(checkToBaseline) + " of baseline"),
        ]
        if let resourceCheck {
            lines.append(row(resourceCheck, percent(resourceCheck.callsPerSecond / check.callsPerSecond) + " of has_permission"))
        }
        lines += [
            row(swift, percent(swiftToPgbench) + " of pgbench"),
            row(swiftLeasePerCall, percent(swiftLeasePerCall.callsPerSecond / check.callsPerSecond) + " of pgbench"),
        ]
        for (tasks, perSecond) in cache.checksPerSecond {
            lines.append("| PermissionCache.hasPermission, \(tasks) task\(tasks == 1 ? "" : "s") (in-process) | "
                         + "\(Int(perSecond).formatted()) | | | | \(String(format: "%.0f", perSecond / check.callsPerSecond))× pgbench |")
        }
        lines += [
            "",
            "PermissionCache: \(configuration.cachedMembers.formatted()) members cached (\(percent(cache.hitShare)) hits while measured), "
                + String(format: "%.0f bytes per cached membership, counted from the cache's arrays (%.1f permission numbers each on average)",
                         cache.bytesPerMembership, cache.averagePermissions),
            String(format: "invalidation latency, COMMIT to the cache's changed answer, under %.0f changes/s: p50 %.2f ms, p95 %.2f ms, p99 %.2f ms",
                   cache.achievedChangesPerSecond, cache.latency.p50, cache.latency.p95, cache.latency.p99),
            String(format: "  the same from the moment COMMIT returned (without its WAL flush): p50 %.2f ms, p95 %.2f ms, p99 %.2f ms",
                   cache.latencyAfterCommit.p50, cache.latencyAfterCommit.p95, cache.latencyAfterCommit.p99),
            "",
            "| write | seconds |",
            "|---|---:|",
        ]
        lines += writes.map { "| \($0.0) | \($0.1.secondsText) |" }
        lines += [
            "",
            "bulk load of the data set: \(eventCost.with.secondsText) s with the change events, \(eventCost.without.secondsText) s "
                + "without (median of \(configuration.loadRounds)): " + String(format: "%+.1f%%", eventCost.overhead * 100),
            "random checks denied: \(percent(deniedShare))",
            "shared buffer hits of one check (EXPLAIN ANALYZE, BUFFERS): \(bufferHits.map(String.init) ?? "n/a")",
        ]
        return lines.joined(separator: "\n")
    }
}
