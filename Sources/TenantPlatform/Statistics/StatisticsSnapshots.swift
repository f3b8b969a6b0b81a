import Foundation

/// Keeps the last ``StatisticsReadings`` of every tenant and server, so the statistics answer
/// at once instead of reading every tenant database on each request (about 13 seconds with
/// 1,000 tenants). The tenants and servers themselves are always the registry's current ones.
///
/// Readings younger than `maximumAge` are used as they are. Older ones are still used, marked
/// as refreshing, while newer ones are read in the background: a dashboard opened an hour later
/// shows the hour-old numbers at once and current ones on the next load. One reading runs at
/// a time; requests that need one meanwhile wait for it rather than start another.
public actor StatisticsSnapshots {
    private let platform: Platform
    private let maximumAge: Duration
    private var latest: StatisticsReadings?
    private var reading: Task<StatisticsReadings, any Error>?

    public init(platform: Platform, maximumAge: Duration) {
        self.platform = platform
        self.maximumAge = maximumAge
    }

    /// The statistics of `within` (a regular admin's tenants) or of every tenant.
    ///
    /// - Parameter fresh: read the databases now and wait for it (for every tenant, a reading
    ///   already running is joined).
    public func statistics(within: [PlatformTenantID]?, fresh: Bool = false) async throws -> PlatformStatistics {
        if let within, fresh || (latest == nil && reading == nil) {
            // A regular admin's tenants, read for this request alone: a refresh (or the first
            // load) of a few tenants does not read every tenant of the platform.
            return try await platform.statistics(within: within)
        }
        guard let kept = latest, !fresh else {
            return try await platform.statistics(within: within, from: try await read())
        }
        if reading == nil, Date().timeIntervalSince(kept.gatheredAt) > maximumAge / .seconds(1) {
            reading = startReading()
        }
        let isRefreshing = reading != nil
        var statistics = try await platform.statistics(within: within, from: kept)
        statistics.isRefreshing = isRefreshing
        return statistics
    }

    /// Waits for the running reading, or starts one and waits for it.
    private func read() async throws -> StatisticsReadings {
        let task = reading ?? startReading()
        reading = task
        return try await task.value
    }

    /// Starts reading every tenant and server; the result becomes ``latest``.
    private func startReading() -> Task<StatisticsReadings, any Error> {
        Task {
            defer { reading = nil }
            let readings = try await platform.readStatistics()
            if latest.map({ $0.gatheredAt < readings.gatheredAt }) ?? true { latest = readings }
            return readings
        }
    }
}
