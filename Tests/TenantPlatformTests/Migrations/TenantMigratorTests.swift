import Foundation
import Permissions
import PlatformTestSupport
import PQ
import Synchronization
import TenantPlatform
import Testing

@Suite("Platform: migrations across tenants")
struct TenantMigratorTests {
    static let probe = "9001_migration_probe"

    @Test("every active and suspended tenant and the template are migrated, with a result row each")
    func migratesEveryTenant() async throws {
        try await PlatformFixture.run { f in
            let oldVersion = try SQLManifest.auth().latestVersion
            for slug in ["acme", "globex", "initech"] { try await f.provisioner.create(name: slug, slug: slug) }
            try await f.lifecycle.suspend(slug: "initech")
            // Still being created: its creation will install the schema, the migration leaves it alone.
            _ = try await f.strings("UPDATE platform.tenant SET status = 'provisioning' WHERE slug = 'globex' RETURNING slug",
                                    database: f.configuration.masterDatabase)
            let events = Collected<MigrationProgress>()
            let run = try await TenantMigrator(platform: f.platform).migrate(
                jobs: 2, manifest: try MigrationManifests.auth(adding: [MigrationManifests.blockable])
            ) { events.append($0) }

            #expect(run.succeeded)
            #expect(run.tenants.map(\.slug) == ["acme", "initech"])
            #expect(run.tenants.allSatisfy { $0.fromVersion == oldVersion && $0.toVersion == Self.probe && $0.error == nil })
            #expect(run.skipped.map(\.slug) == ["globex"])
            guard run.templates.map(\.server) == ["main"], case .migrated(let template) = run.templates[0].outcome else {
                Issue.record("templates: \(run.templates)")
                return
            }
            #expect(template.toVersion == Self.probe)
            #expect(try await f.hasProbeTable(f.templateDatabase))
            #expect(try await f.hasProbeTable(f.database("acme")))
            #expect(try await f.hasProbeTable(f.database("initech")))
            #expect(try await !f.hasProbeTable(f.database("globex")))

            #expect(try await f.resultRows(run.runID) == [
                "acme succeeded \(oldVersion!) → \(Self.probe) timed", "initech succeeded \(oldVersion!) → \(Self.probe) timed"])
            #expect(try await f.registryVersions() == ["acme \(Self.probe)", "globex \(oldVersion!)", "initech \(Self.probe)"])

            let progress = events.values
            guard case .templateStarted = progress.first?.event else {
                Issue.record("the template goes first")
                return
            }
            #expect(progress.last.map { [$0.done, $0.failed, $0.remaining] } == [2, 0, 0])

            // Nothing left to do: a second run finds every database current.
            let again = try await TenantMigrator(platform: f.platform).migrate(
                manifest: try MigrationManifests.auth(adding: [MigrationManifests.blockable]))
            #expect(again.succeeded && again.runID != run.runID)
            #expect(again.tenants.allSatisfy { $0.fromVersion == Self.probe && $0.toVersion == Self.probe })
        }
    }

    @Test("a migration failing on one tenant of several: the others succeed, it stays at its old version, resume retries only it")
    func failingTenantThenResume() async throws {
        try await PlatformFixture.run { f in
            let oldVersion = try #require(try SQLManifest.auth().latestVersion)
            for slug in ["alpha", "bravo", "charlie"] { try await f.provisioner.create(name: slug, slug: slug) }
            try await f.execute("CREATE SCHEMA migration_blocker", database: f.database("bravo"))
            let manifest = try MigrationManifests.auth(adding: [MigrationManifests.blockable])
            let migrator = TenantMigrator(platform: f.platform)

            let run = try await migrator.migrate(jobs: 3, manifest: manifest)
            #expect(!run.succeeded)
            #expect(run.tenants.map { "\($0.slug) \($0.status.rawValue)" } == ["alpha succeeded", "bravo failed", "charlie succeeded"])
            let failed = try #require(run.failedTenants.first)
            #expect(failed.error?.contains("blocked by schema migration_blocker") == true)
            #expect(failed.error?.contains(Self.probe) == true, "the error names the migration file")
            #expect(failed.fromVersion == oldVersion && failed.toVersion == nil)
            // The installer's transaction was rolled back: not even the table made before the error is left.
            #expect(try await !f.hasProbeTable(f.database("bravo")))
            #expect(try await f.appliedVersion(f.database("bravo")) == oldVersion)
            #expect(try await f.registryVersions() == ["alpha \(Self.probe)", "bravo \(oldVersion)", "charlie \(Self.probe)"])
            let rows = try await f.resultRows(run.runID)
            #expect(rows == ["alpha succeeded \(oldVersion) → \(Self.probe) timed", "bravo failed \(oldVersion) → - timed",
                             "charlie succeeded \(oldVersion) → \(Self.probe) timed"])
            let finishedBefore = try await f.finishedAt(run.runID)

            try await f.execute("DROP SCHEMA migration_blocker", database: f.database("bravo"))
            let resumed = try await migrator.migrate(resume: true, manifest: manifest)
            #expect(resumed.succeeded && resumed.resumed)
            #expect(resumed.runID == run.runID)
            #expect(resumed.tenants.map(\.slug) == ["bravo"])
            #expect(try await f.hasProbeTable(f.database("bravo")))
            #expect(try await f.resultRows(run.runID) == rows.map { $0.replacingOccurrences(of: "bravo failed \(oldVersion) → -",
                                                                                         with: "bravo succeeded \(oldVersion) → \(Self.probe)") })
            let finishedAfter = try await f.finishedAt(run.runID)
            #expect(finishedAfter["alpha"] == finishedBefore["alpha"] && finishedAfter["charlie"] == finishedBefore["charlie"],
                    "the tenants that had succeeded are not run again")
            #expect(finishedAfter["bravo"] != finishedBefore["bravo"])
        }
    }

    @Test("a template that fails stops the run before any tenant; resume then migrates them")
    func failingTemplateStopsTheRun() async throws {
        try await PlatformFixture.run { f in
            let oldVersion = try #require(try SQLManifest.auth().latestVersion)
            for slug in ["alpha", "bravo"] { try await f.provisioner.create(name: slug, slug: slug) }
            try await f.execute("CREATE SCHEMA migration_blocker", database: f.templateDatabase)
            let manifest = try MigrationManifests.auth(adding: [MigrationManifests.blockable])
            let migrator = TenantMigrator(platform: f.platform)

            let run = try await migrator.migrate(manifest: manifest)
            #expect(!run.succeeded)
            guard case .failed(_, let error) = run.templates.first?.outcome else {
                Issue.record("templates: \(run.templates)")
                return
            }
            #expect(error.contains("blocked by schema migration_blocker"))
            #expect(run.tenants.map { "\($0.slug) \($0.status.rawValue)" } == ["alpha pending", "bravo pending"])
            #expect(try await f.resultRows(run.runID) == ["alpha pending - → - untimed", "bravo pending - → - untimed"])
            #expect(try await !f.hasProbeTable(f.database("alpha")))
            #expect(try await f.registryVersions() == ["alpha \(oldVersion)", "bravo \(oldVersion)"])

            try await f.execute("DROP SCHEMA migration_blocker", database: f.templateDatabase)
            let resumed = try await migrator.migrate(resume: true, manifest: manifest)
            #expect(resumed.succeeded && resumed.runID == run.runID)
            #expect(resumed.tenants.map(\.slug) == ["alpha", "bravo"])
            #expect(try await f.hasProbeTable(f.templateDatabase))
            #expect(try await f.hasProbeTable(f.database("alpha")))
        }
    }

    @Test("no more than `jobs` tenant databases migrate at once, and more than one do")
    func boundedConcurrency() async throws {
        try await PlatformFixture.run { f in
            for slug in ["alpha", "bravo", "charlie"] { try await f.provisioner.create(name: slug, slug: slug) }
            let prefix = f.configuration.tenantDatabasePrefix
            // Counts this fixture's sessions inside the slow migration, from outside.
            let watcher = Task {
                let connection = try await f.superuser()
                var maximum = 0
                while !Task.isCancelled {
                    // Cancelling the watcher may cancel this very query: that ends the watch.
                    guard let now = try? await connection.query("""
                        SELECT count(*) FROM pg_stat_activity
                        WHERE query LIKE '%concurrency-probe%' AND state = 'active' AND pid <> pg_backend_pid()
                          AND datname LIKE $1
                        """, [prefix + "\\_%"]).scalar(Int.self) else { break }
                    maximum = max(maximum, now)
                    try? await Task.sleep(for: .milliseconds(20))
                }
                await connection.close()
                return maximum
            }
            let observed = Collected<Int>()
            let run = try await TenantMigrator(platform: f.platform).migrate(
                jobs: 2, manifest: try MigrationManifests.auth(adding: [MigrationManifests.slow(seconds: 0.6)])
            ) { observed.append($0.running) }
            watcher.cancel()
            #expect(run.succeeded)
            #expect(try await watcher.value == 2)
            #expect(observed.values.max() == 2)
        }
    }

    @Test("--tenant migrates only the tenants named; an unknown slug is refused before anything runs")
    func selection() async throws {
        try await PlatformFixture.run { f in
            for slug in ["alpha", "bravo"] { try await f.provisioner.create(name: slug, slug: slug) }
            let manifest = try MigrationManifests.auth(adding: [MigrationManifests.blockable])
            let migrator = TenantMigrator(platform: f.platform)
            do {
                _ = try await migrator.migrate(tenants: .slugs(["bravo", "nobody"]), manifest: manifest)
                Issue.record("an unknown slug must be refused")
            } catch let error as PlatformError {
                #expect(error.code == .unknownTenant)
            }
            #expect(try await !f.hasProbeTable(f.templateDatabase))

            let run = try await migrator.migrate(tenants: .slugs(["bravo", "bravo"]), manifest: manifest)
            #expect(run.succeeded)
            #expect(run.tenants.map(\.slug) == ["bravo"])
            #expect(try await f.hasProbeTable(f.database("bravo")))
            #expect(try await !f.hasProbeTable(f.database("alpha")))
        }
    }

    @Test("the master schema migrates on its own; a second run at once and a resume without a run are refused")
    func masterAndRefusals() async throws {
        try await PlatformFixture.run { f in
            let current = try SQLManifest.master().latestVersion
            let upToDate = try await TenantMigrator.migrateMaster(f.configuration)
            #expect(upToDate.wasUpToDate && upToDate.fromVersion == current && upToDate.toVersion == current)

            let manifest = try MigrationManifests.extending(
                try .master(), with: [(path: "master/migrations/0901_master_probe.sql", sql: "CREATE TABLE platform.master_probe (id int);")])
            let migrated = try await TenantMigrator.migrateMaster(f.configuration, manifest: manifest)
            #expect(migrated.fromVersion == current && migrated.toVersion == "0901_master_probe")
            #expect(migrated.appliedFiles.contains("master/migrations/0901_master_probe.sql"))
            #expect(try await f.strings("SELECT to_regclass('platform.master_probe')::text", database: f.configuration.masterDatabase)
                == ["platform.master_probe"])

            let migrator = TenantMigrator(platform: f.platform)
            let nothing = try await #require(throws: PlatformError.self) { try await migrator.migrate(resume: true) }
            #expect(nothing.code == .noMigrationToResume)
            let other = try await f.superuser(f.configuration.masterDatabase)
            try await other.query("SELECT pg_advisory_lock(hashtextextended('pgperm.migrate', 0))")
            let busy = try await #require(throws: PlatformError.self) { try await migrator.migrate() }
            #expect(busy.code == .migrationRunning)
            await other.close()
            #expect(try await migrator.migrate().succeeded)
        }
    }
}

/// Values collected from a `@Sendable` callback.
final class Collected<Value: Sendable>: Sendable {
    private let storage = Mutex<[Value]>([])
    var values: [Value] { storage.withLock { $0 } }
    func append(_ value: Value) { storage.withLock { $0.append(value) } }
}

extension PlatformFixture {
    var templateDatabase: String { TenantNames.templateDatabase(prefix: configuration.tenantDatabasePrefix) }

    func database(_ slug: String) -> String { TenantNames(slug: slug, prefix: configuration.tenantDatabasePrefix).databaseName }

    func execute(_ sql: String, database: String) async throws {
        let connection = try await superuser(database)
        do {
            try await connection.query(sql)
            await connection.close()
        } catch {
            await connection.close()
            throw error
        }
    }

    func hasProbeTable(_ database: String) async throws -> Bool {
        try await strings("SELECT (to_regclass('auth.migration_probe') IS NOT NULL)::text", database: database) == ["true"]
    }

    /// The last auth migration recorded in the database itself.
    func appliedVersion(_ database: String) async throws -> String? {
        try await strings("""
            SELECT regexp_replace(max(path), '^migrations/(.*)\\.sql$', '\\1') FROM pgperm.applied_file
            WHERE component = 'auth' AND path LIKE 'migrations/%'
            """, database: database).first
    }

    /// `slug status from → to timed|untimed` per result row of the run.
    func resultRows(_ runID: UUID) async throws -> [String] {
        try await strings("""
            SELECT t.slug || ' ' || m.status || ' ' || coalesce(m.from_version, '-') || ' → ' || coalesce(m.to_version, '-')
                   || CASE WHEN m.started_at IS NOT NULL AND m.finished_at >= m.started_at AND m.duration_ms >= 0
                           THEN ' timed' ELSE ' untimed' END
            FROM platform.tenant_migration m JOIN platform.tenant t USING (tenant_id)
            WHERE m.run_id = $1 ORDER BY t.slug
            """, [runID], database: configuration.masterDatabase)
    }

    func finishedAt(_ runID: UUID) async throws -> [String: String] {
        let rows = try await strings("""
            SELECT t.slug || ' ' || m.finished_at::text FROM platform.tenant_migration m JOIN platform.tenant t USING (tenant_id)
            WHERE m.run_id = $1
            """, [runID], database: configuration.masterDatabase)
        return Dictionary(uniqueKeysWithValues: rows.map { row in
            let parts = row.split(separator: " ", maxSplits: 1).map(String.init)
            return (parts[0], parts[1])
        })
    }

    /// `slug schema_version` per registry row.
    func registryVersions() async throws -> [String] {
        try await strings("SELECT slug || ' ' || coalesce(schema_version, '-') FROM platform.tenant ORDER BY slug",
                          database: configuration.masterDatabase)
    }
}
