import Foundation
import Permissions
import PlatformTestSupport
import PQ
import TenantPlatform
import Testing

/// The README's timing: N tenant databases migrated with --jobs 1, then --jobs 4.
///
///     PGPERM_MIGRATION_BENCH=100 swift test --skip-build --filter MigrationBenchmark
///
/// One tenant is provisioned for real (which makes the template); the rest are clones of the
/// template with registry rows of their own, which is all a migration looks at. Each run
/// applies one new migration (a column, an index, a table) to the template and every tenant.
@Suite("Platform: migration timing")
struct MigrationBenchmark {
    static let tenantCount = ProcessInfo.processInfo.environment["PGPERM_MIGRATION_BENCH"].flatMap { Int($0) }

    @Test("migrating N tenant databases with jobs 1 and 4", .enabled(if: tenantCount != nil, "set PGPERM_MIGRATION_BENCH=N"))
    func timeMigrations() async throws {
        let count = try #require(Self.tenantCount)
        try await PlatformFixture.run { f in
            let setupStarted = ContinuousClock.now
            try await f.provisioner.create(name: "Bench 1", slug: "bench-1")
            if count > 1 { try await f.cloneTenants(2...count) }
            print("set up \(count) tenant databases in \(Self.seconds(ContinuousClock.now - setupStarted))")

            var migrations: [(name: String, sql: String)] = []
            for jobs in [1, 4] {
                migrations.append(Self.migration(number: migrations.count + 1))
                let run = try await TenantMigrator(platform: f.platform).migrate(
                    jobs: jobs, manifest: try MigrationManifests.auth(adding: migrations))
                #expect(run.succeeded)
                #expect(run.tenants.count == count)
                let durations = run.tenants.compactMap(\.duration).sorted()
                print("migrated \(count) tenant databases (and the template) with jobs \(jobs) in \(Self.seconds(run.duration)); "
                      + "per tenant median \(Self.seconds(durations[durations.count / 2])), max \(Self.seconds(durations.last!))")
            }
        }
    }

    static func migration(number: Int) -> (name: String, sql: String) {
        (name: "95\(String(format: "%02d", number))_bench", sql: """
            ALTER TABLE auth.user_info ADD COLUMN bench_note_\(number) text;
            CREATE INDEX user_info_bench_note_\(number)_idx ON auth.user_info (bench_note_\(number));
            CREATE TABLE auth.bench_\(number) (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text NOT NULL);
            """)
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}

extension PlatformFixture {
    /// Tenants `bench-<n>` for each n: a database cloned from the template and an active
    /// registry row (with placeholder credentials, which migrations never open).
    func cloneTenants(_ numbers: ClosedRange<Int>) async throws {
        let prefix = configuration.tenantDatabasePrefix
        let admin = try await superuser()
        do {
            for number in numbers {
                try await admin.query("CREATE DATABASE \"\(prefix)_bench_\(number)\" TEMPLATE \"\(templateDatabase)\"")
            }
            await admin.close()
        } catch {
            await admin.close()
            throw error
        }
        _ = try await strings("""
            INSERT INTO platform.tenant (name, slug, status, server_id, database_name, role_name, credentials_encrypted, admin_email,
                                         admin_password_encrypted, key_version, schema_version)
            SELECT 'Bench ' || n, 'bench-' || n, 'active', s.server_id, $1 || '_bench_' || n, $1 || '_bench_' || n, 'unused',
                   'admin@bench-' || n || '.tenant', 'unused', 1, $2
            FROM generate_series($3::int, $4::int) n, platform.database_server s WHERE s.from_configuration
            RETURNING slug
            """, [prefix, try SQLManifest.auth().latestVersion, numbers.lowerBound, numbers.upperBound],
            database: configuration.masterDatabase)
    }
}
