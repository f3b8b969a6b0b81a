import Foundation
import LocalPostgres
import Permissions
import PQ

/// Measures `auth.has_permission` against a one-lookup baseline, end to end from Swift,
/// and the cost of writes that change many users' permissions.
public struct PermissionsBenchmark {
    public struct Configuration: Sendable {
        public var scale: BenchmarkScale
        /// Seconds per measured pgbench or Swift run.
        public var seconds: Int
        /// Concurrent clients (and connections).
        public var clients: Int
        /// Alternating baseline/check pgbench rounds; the median counts.
        public var rounds: Int
        /// Pairs of bulk loads without and with the change events; the medians count.
        public var loadRounds: Int
        /// Members cached for the PermissionCache measurements.
        public var cachedMembers: Int
        /// Background changes of rights per second while the invalidation latency is measured.
        public var changesPerSecond: Int
        public init(scale: BenchmarkScale, seconds: Int = 6, clients: Int = 2, rounds: Int = 9, loadRounds: Int = 2,
                    cachedMembers: Int = 20_000, changesPerSecond: Int = 200) {
            self.scale = scale
            self.seconds = seconds
            self.clients = clients
            self.rounds = rounds
            self.loadRounds = loadRounds
            self.cachedMembers = cachedMembers
            self.changesPerSecond = changesPerSecond
        }
    }

    public let configuration: Configuration
    /// Where to load the data: an empty database, as a libpq conninfo.
    public let conninfo: String
    public let binaries: PostgresBinaries
    public let progress: @Sendable (String) -> Void

    public init(configuration: Configuration, conninfo: String, binaries: PostgresBinaries,
                progress: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.conninfo = conninfo
        self.binaries = binaries
        self.progress = progress
    }

    public func run() async throws -> BenchmarkReport {
        let scale = configuration.scale
        let connection = try await Connection.connect(conninfo)
        defer { Task { await connection.close() } }

        progress("Installing the auth schema and the baseline table ...")
        try await SchemaInstaller(manifest: try .auth()).install(on: connection)
        try await createBaseline(on: connection)

        progress("Loading \(scale) through the bulk path, without and with the change events ...")
        let eventCost = try await ChangeEventCost(scale: scale, connection: connection, rounds: configuration.loadRounds,
                                                  progress: progress).run()

        let workDirectory = FileManager.default.temporaryDirectory.appending(path: "pgperm-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: workDirectory) }
        let pgbench = PgbenchRunner(pgbench: binaries.url("pgbench"), conninfo: conninfo,
                                    clients: configuration.clients, workDirectory: workDirectory)
        let baselineScript = PgbenchScripts.check("bench.baseline_lookup", scale: scale)
        let checkScript = PgbenchScripts.check("auth.has_permission", scale: scale)
        let resourceScript = scale.resourceGrants > 0 ? PgbenchScripts.resourceCheck(scale: scale) : nil

        progress("Settling: VACUUM ANALYZE and CHECKPOINT, so autovacuum does not run during the measurements ...")
        try await connection.query("VACUUM ANALYZE")
        try await connection.query("CHECKPOINT")

        progress("Warming up ...")
        _ = try pgbench.run(name: "warmup", script: baselineScript, seconds: 3, log: false)
        _ = try pgbench.run(name: "warmup", script: checkScript, seconds: 3, log: false)
        if let resourceScript { _ = try pgbench.run(name: "warmup", script: resourceScript, seconds: 3, log: false) }
        // Baseline and check alternate, and the median round counts: the machine's own drift
        // (other processes, CPU frequency) then weighs on both equally.
        var baselineRuns: [LatencySummary] = []
        var checkRuns: [LatencySummary] = []
        var resourceRuns: [LatencySummary] = []
        for round in 1...configuration.rounds {
            progress("Round \(round) of \(configuration.rounds): baseline, then auth.has_permission"
                     + (resourceScript == nil ? "" : ", then auth.has_resource_permission")
                     + ", with pgbench (\(configuration.seconds) s each) ...")
            baselineRuns.append(try pgbench.run(name: "baseline: one primary-key lookup (pgbench)", script: baselineScript,
                                                seconds: configuration.seconds))
            checkRuns.append(try pgbench.run(name: "auth.has_permission (pgbench)", script: checkScript,
                                             seconds: configuration.seconds))
            if let resourceScript {
                resourceRuns.append(try pgbench.run(name: "auth.has_resource_permission (pgbench)", script: resourceScript,
                                                    seconds: configuration.seconds))
            }
        }
        let baseline = LatencySummary.median(baselineRuns)
        let check = LatencySummary.median(checkRuns)
        let resourceCheck = resourceRuns.isEmpty ? nil : LatencySummary.median(resourceRuns)
        progress("Measuring auth.has_permission through the Swift wrapper and pool (2 × \(configuration.seconds) s) ...")
        let loop = SwiftCheckLoop(conninfo: conninfo, clients: configuration.clients, scale: scale)
        let swift = try await loop.run(seconds: configuration.seconds, mode: .connectionPerTask)
        let swiftLeasePerCall = try await loop.run(seconds: configuration.seconds, mode: .leasePerCall)
        let cache = try await CacheBenchmark(conninfo: conninfo, scale: scale, hotMembers: configuration.cachedMembers,
                                             seconds: configuration.seconds, changesPerSecond: configuration.changesPerSecond,
                                             latencySamples: 300, progress: progress).run()

        progress("Timing writes ...")
        let writes = try await timeWrites(on: connection)
        return BenchmarkReport(
            configuration: configuration, eventCost: eventCost, baseline: baseline, check: check, resourceCheck: resourceCheck,
            swift: swift, swiftLeasePerCall: swiftLeasePerCall, cache: cache,
            writes: writes, bufferHits: try await bufferHits(on: connection),
            deniedShare: try await deniedShare(on: connection),
            serverVersion: try await connection.query("SHOW server_version").scalar(String.self))
    }

    /// The baseline: a PL/pgSQL function doing one primary-key lookup in a 1M-row table,
    /// called with the same three arguments as the check.
    private func createBaseline(on connection: Connection) async throws {
        try await connection.execute(script: """
            CREATE SCHEMA IF NOT EXISTS bench;
            DROP TABLE IF EXISTS bench.lookup;
            CREATE TABLE bench.lookup (id uuid PRIMARY KEY, payload int NOT NULL);
            INSERT INTO bench.lookup SELECT \(BenchmarkIDs.sql(BenchmarkIDs.user, "n")), n FROM generate_series(1, 1000000) n;
            CREATE OR REPLACE FUNCTION bench.baseline_lookup(_tenant_id uuid, _user_id uuid, _perm_code text)
            RETURNS boolean LANGUAGE plpgsql STABLE AS $$
            DECLARE _found boolean;
            BEGIN
                SELECT true INTO _found FROM bench.lookup WHERE id = _user_id;
                RETURN coalesce(_found, false);
            END $$;
            """)
        try await connection.query("VACUUM ANALYZE bench.lookup")
    }

    /// Each write in its own transaction, timed from the client including COMMIT.
    private func timeWrites(on connection: Connection) async throws -> [(String, Duration)] {
        let tenant = WriteTenant(scale: configuration.scale)
        func timed(_ name: String, _ sql: String, _ binds: [any PostgresEncodable]) async throws -> (String, Duration) {
            let started = ContinuousClock.now
            try await connection.query(sql, binds)
            return (name, ContinuousClock.now - started)
        }
        return [
            try await timed("add a permission to a set used by \(BenchmarkScale.writeSetUsers.formatted()) users",
                            "SELECT auth.add_perm_set_permissions($1, $2, ARRAY['m9.s9.p9'])", [tenant.id, WriteTenant.sharedSet]),
            try await timed("assign a set to a group of \(BenchmarkScale.writeTenantMembers.formatted()) members",
                            "SELECT auth.assign_permission($1, NULL, $2, $3, NULL)", [tenant.id, tenant.group, WriteTenant.groupSet]),
            try await timed("deactivate a group of \(BenchmarkScale.writeTenantMembers.formatted()) members",
                            "SELECT auth.deactivate_user_group($1, $2)", [tenant.id, tenant.group]),
        ]
    }

    /// Shared-buffer hits of one warmed-up check, from EXPLAIN (ANALYZE, BUFFERS).
    private func bufferHits(on connection: Connection) async throws -> Int? {
        let call = "SELECT auth.has_permission('\(BenchmarkIDs.text(BenchmarkIDs.tenant, 1))', '\(BenchmarkIDs.text(BenchmarkIDs.user, 1))', 'm1.s2.p3')"
        try await connection.query(call)
        let plan = try await connection.query("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) \(call)")
        for row in plan {
            let line = try row.decode(String.self, at: 0)
            if let range = line.range(of: "shared hit=") {
                return Int(line[range.upperBound...].prefix { $0.isNumber })
            }
        }
        return nil
    }

    /// The share of random checks that are denied (the data set aims at about 90%).
    private func deniedShare(on connection: Connection) async throws -> Double {
        let scale = configuration.scale
        return try await connection.query("""
            SELECT avg((NOT auth.has_permission(
                       \(BenchmarkIDs.sql(BenchmarkIDs.tenant, "(u - 1) / \(scale.usersPerTenant) + 1")),
                       \(BenchmarkIDs.sql(BenchmarkIDs.user, "u")),
                       'm' || c / 100 || '.s' || c / 10 % 10 || '.p' || c % 10))::int)::float8
            FROM (SELECT 1 + floor(random() * \(scale.users))::int AS u, floor(random() * 1000)::int AS c
                  FROM generate_series(1, 20000)) sample
            """).scalar(Double.self)
    }
}
