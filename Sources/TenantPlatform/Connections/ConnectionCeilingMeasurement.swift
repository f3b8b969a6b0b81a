import Foundation
import PQ
import Synchronization

/// Serves many simulated tenants through a ``TenantConnectionManager`` and watches the server:
/// how many connections PostgreSQL really had open at the peak, against the ceiling.
///
/// Every tenant is the same database reached with its own `application_name`
/// (`<prefix>-<n>`), so the measurement needs one database, not one per tenant; a separate
/// connection samples `pg_stat_activity` in a loop while the load runs.
public struct ConnectionCeilingMeasurement: Sendable {
    public struct Load: Sendable {
        /// Simulated tenants. Default 100.
        public var tenants: Int
        /// Tasks running at once, each leasing connections for random tenants. Default 100.
        public var tasks: Int
        /// Leases each task makes, one after the other. Default 5.
        public var leasesPerTask: Int
        /// Queries run on each leased connection. Default 3.
        public var queriesPerLease: Int
        /// Manager settings; default a ceiling of 20 connections, pool size 2, overflow 3.
        public var settings: TenantPoolSettings

        public init(tenants: Int = 100, tasks: Int = 100, leasesPerTask: Int = 5, queriesPerLease: Int = 3,
                    settings: TenantPoolSettings = TenantPoolSettings(poolSize: 2, maxOverflow: 3,
                                                                      maximumConnections: 20)) {
            self.tenants = tenants
            self.tasks = tasks
            self.leasesPerTask = leasesPerTask
            self.queriesPerLease = queriesPerLease
            self.settings = settings
        }
    }

    public var load: Load
    /// The most connections `pg_stat_activity` showed for the simulated tenants at once.
    public var peakServerConnections: Int
    /// How many times `pg_stat_activity` was sampled.
    public var samples: Int
    /// The manager's own count of the peak (``TenantConnectionStatistics/peakOpenConnections``).
    public var peakOpenConnections: Int
    /// Distinct tenants whose pool opened at least once.
    public var tenantsServed: Int
    /// Pool openings: how often the source was asked for a conninfo.
    public var poolOpenings: Int
    public var evictedConnections: Int
    public var leases: Int
    public var duration: Duration

    /// A line for a README or a terminal.
    public var summary: String {
        "\(tenantsServed) tenants, \(leases) leases by \(load.tasks) concurrent tasks, ceiling "
            + "\(load.settings.maximumConnections): peak \(peakServerConnections) server connections "
            + "(pg_stat_activity, \(samples) samples; manager peak \(peakOpenConnections)), "
            + "\(poolOpenings) pool openings, \(evictedConnections) evictions, in \(duration)"
    }

    /// Runs `load` against the database at `conninfo` (its role must be allowed to read
    /// `pg_stat_activity` of its own connections, which every role is).
    ///
    /// - Parameters:
    ///   - conninfo: a `key=value` conninfo (the tenant tag is appended as
    ///     `application_name=...`).
    ///   - prefix: the `application_name` prefix of the simulated tenants; unique per run
    ///     if several runs share a server. Default `tenant`.
    public static func run(conninfo: String, prefix: String = "tenant", load: Load = Load()) async throws -> Self {
        let sampler = try await Connection.connect(conninfo)
        let source = TaggedTenantSource(conninfo: conninfo)
        let manager = TenantConnectionManager(settings: load.settings, source: source)
        let done = Atomic<Bool>(false)
        let clock = ContinuousClock()
        let start = clock.now

        async let sampling: (peak: Int, samples: Int) = {
            var peak = 0
            var samples = 0
            while !done.load(ordering: .relaxed) {
                let count = try await sampler.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE $1",
                    ["\(prefix)-%"], prepared: true
                ).scalar(Int.self)
                peak = max(peak, count)
                samples += 1
            }
            return (peak, samples)
        }()

        let server = ServerID(UUID())
        let targets = (1...load.tenants).map {
            TenantConnectionTarget(tenant: PlatformTenantID(UUID()), server: server, serverName: "measured", name: "\(prefix)-\($0)")
        }
        var failure: (any Error)?
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<load.tasks {
                    group.addTask {
                        for _ in 0..<load.leasesPerTask {
                            try await manager.withConnection(to: targets.randomElement()!) { connection in
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
        let statistics = manager.statistics
        await manager.shutdown()
        let sampled = try await sampling
        await sampler.close()
        if let failure { throw failure }

        return Self(load: load, peakServerConnections: sampled.peak, samples: sampled.samples,
                    peakOpenConnections: statistics.peakOpenConnections,
                    tenantsServed: source.tenantsAsked, poolOpenings: source.calls,
                    evictedConnections: statistics.evictedConnections,
                    leases: load.tasks * load.leasesPerTask, duration: duration)
    }
}

/// Every tenant is the same database, told apart by `application_name`.
private final class TaggedTenantSource: TenantConnectionSource {
    let conninfo: String
    private let asked = Mutex<[String: Int]>([:])

    init(conninfo: String) {
        self.conninfo = conninfo
    }

    var calls: Int { asked.withLock { $0.values.reduce(0, +) } }
    var tenantsAsked: Int { asked.withLock { $0.count } }

    func connectionInfo(for target: TenantConnectionTarget) async throws -> String {
        asked.withLock { $0[target.name, default: 0] += 1 }
        return "\(conninfo) application_name=\(target.name)"
    }
}
