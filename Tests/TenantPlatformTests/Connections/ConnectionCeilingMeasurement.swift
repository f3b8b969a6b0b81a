import Synchronization
import TenantPlatform

/// Serves many simulated tenants through a ``TenantConnectionManager`` and watches the server:
/// how many connections PostgreSQL really had open at the peak, against the ceiling.
///
/// Every tenant is the test database reached with its own `application_name`
/// (``SimulatedTenants``), so the measurement needs one database, not one per tenant; the
/// observer connection samples `pg_stat_activity` in a loop while the load runs.
struct ConnectionCeilingMeasurement {
    struct Load {
        /// Simulated tenants. Default 100.
        var tenants = 100
        /// Tasks running at once, each leasing connections for random tenants. Default 100.
        var tasks = 100
        /// Leases each task makes, one after the other. Default 5.
        var leasesPerTask = 5
        /// Queries run on each leased connection. Default 3.
        var queriesPerLease = 3
    }

    var load: Load
    /// The manager's ceiling (``TenantPoolSettings/maximumConnections``).
    var ceiling: Int
    /// The most connections `pg_stat_activity` showed for the simulated tenants at once.
    var peakServerConnections: Int
    /// How many times `pg_stat_activity` was sampled.
    var samples: Int
    /// The manager's own count of the peak (``TenantConnectionStatistics/peakOpenConnections``).
    var peakOpenConnections: Int
    /// Distinct tenants whose pool opened at least once.
    var tenantsServed: Int
    /// Pool openings: how often the source was asked for a conninfo.
    var poolOpenings: Int
    var evictedConnections: Int
    var leases: Int { load.tasks * load.leasesPerTask }
    var duration: Duration

    /// A line for a README or a terminal.
    var summary: String {
        "\(tenantsServed) tenants, \(leases) leases by \(load.tasks) concurrent tasks, ceiling "
            + "\(ceiling): peak \(peakServerConnections) server connections "
            + "(pg_stat_activity, \(samples) samples; manager peak \(peakOpenConnections)), "
            + "\(poolOpenings) pool openings, \(evictedConnections) evictions, in \(duration)"
    }

    /// Runs `load` through `manager`, whose source is `tenants` and nothing else yet.
    static func run(_ load: Load = Load(), through manager: TenantConnectionManager,
                    tenants: SimulatedTenants) async throws -> Self {
        let done = Atomic<Bool>(false)
        let clock = ContinuousClock()
        let start = clock.now

        async let sampling: (peak: Int, samples: Int) = {
            var peak = 0
            var samples = 0
            while !done.load(ordering: .relaxed) {
                peak = max(peak, try await tenants.serverConnections())
                samples += 1
            }
            return (peak, samples)
        }()

        var failure: (any Error)?
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<load.tasks {
                    group.addTask {
                        for _ in 0..<load.leasesPerTask {
                            try await manager.withConnection(to: simulated("tenant-\(Int.random(in: 1...load.tenants))")) { connection in
                                for _ in 0..<load.queriesPerLease {
                                    try await connection.query("SELECT 1", prepared: true)
                                }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            failure = error
        }
        let duration = clock.now - start
        done.store(true, ordering: .relaxed)
        let sampled = try await sampling
        if let failure { throw failure }

        let statistics = manager.statistics
        let openings = tenants.poolOpenings
        return Self(load: load, ceiling: manager.settings.maximumConnections,
                    peakServerConnections: sampled.peak, samples: sampled.samples,
                    peakOpenConnections: statistics.peakOpenConnections,
                    tenantsServed: openings.tenants, poolOpenings: openings.total,
                    evictedConnections: statistics.evictedConnections, duration: duration)
    }
}
