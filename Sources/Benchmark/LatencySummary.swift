/// Throughput and latency percentiles of one measured run.
public struct LatencySummary: Sendable {
    public let name: String
    public let callsPerSecond: Double
    /// Milliseconds.
    public let p50: Double
    public let p95: Double
    public let p99: Double

    /// Summarises per-call latencies in microseconds measured over `seconds`.
    init(name: String, latenciesMicroseconds: [Double], seconds: Double, callsPerSecond: Double? = nil) {
        let sorted = latenciesMicroseconds.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            return sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.down)))] / 1000
        }
        self.name = name
        self.callsPerSecond = callsPerSecond ?? Double(sorted.count) / seconds
        self.p50 = percentile(0.50)
        self.p95 = percentile(0.95)
        self.p99 = percentile(0.99)
    }

    /// The run with the median throughput.
    static func median(_ runs: [LatencySummary]) -> LatencySummary {
        runs.sorted { $0.callsPerSecond < $1.callsPerSecond }[runs.count / 2]
    }
}
