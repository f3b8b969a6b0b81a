import Foundation
import LocalPostgres
import Permissions
import PlatformTestSupport
import PostgresTestSupport
import PQ
import Synchronization
import TenantPlatform
import Testing

/// The README's numbers for a platform over three servers:
///
///     PGPERM_PLATFORM_BENCH=300 swift test --skip-build --filter PlatformScaleBenchmark
///
/// N tenants created for real (placement picks the server), all of them migrated with
/// `--jobs 1` and `--jobs 8`, then a tenant of 100,000 users moved to another server while
/// a task checks permissions against it.
@Suite("Platform: scale over three servers", .serialized)
struct PlatformScaleBenchmark {
    static let tenantCount = ProcessInfo.processInfo.environment["PGPERM_PLATFORM_BENCH"].flatMap { Int($0) }

    @Test("create N tenants over 3 servers, migrate them with jobs 1 and 8, move a tenant of 100k users",
          .enabled(if: tenantCount != nil, "set PGPERM_PLATFORM_BENCH=N"))
    func scale() async throws {
        let count = try #require(Self.tenantCount)
        try await PlatformFixture.run { f in
            for (index, server) in TestPostgres.extraServers.enumerated() {
                let cluster = try await server.localCluster()
                try await f.platform.serverAdministration.add(.init(
                    name: "s\(index + 2)", address: .init(host: cluster.host, port: cluster.port ?? 5432),
                    adminUser: LocalCluster.superuser, adminPassword: cluster.password))
            }
            let created = ContinuousClock.now
            for n in 1...count { try await f.provisioner.create(name: "Bench \(n)", slug: "bench-\(n)") }
            let spread = Dictionary(grouping: try await f.platform.directory.all(), by: \.server.name).mapValues(\.count)
            print("created \(count) tenants in \(MigrationBenchmark.seconds(ContinuousClock.now - created)); spread \(spread.sorted { $0.key < $1.key })")

            var migrations: [(name: String, sql: String)] = []
            for jobs in [1, 8] {
                migrations.append(MigrationBenchmark.migration(number: migrations.count + 1))
                let run = try await TenantMigrator(platform: f.platform).migrate(
                    jobs: jobs, manifest: try MigrationManifests.auth(adding: migrations))
                #expect(run.succeeded)
                print("migrated \(count) tenants and 3 templates with jobs \(jobs) in \(MigrationBenchmark.seconds(run.duration))")
            }

            try await moveLargeTenant(f)
        }
    }

    /// 100,000 users, every other one granted a code, moved under a steady load of checks.
    private func moveLargeTenant(_ f: PlatformFixture) async throws {
        let tenant = try await f.platform.directory.require(slug: "bench-1")
        let authTenant = try tenant.authTenantID()
        let sample = try await f.withTenantConnection("bench-1") { connection in
            try await connection.withTransaction { connection in
                try await connection.query("""
                    INSERT INTO auth.user_info (username) SELECT 'user' || n FROM generate_series(1, 100000) n
                    """)
                try await connection.query("""
                    INSERT INTO auth.tenant_user (tenant_id, user_id) SELECT $1, user_id FROM auth.user_info WHERE username LIKE 'user%'
                    """, [authTenant])
                let auth = AuthClient(connection)
                var sample: [(UserID, Bool)] = []
                for n in stride(from: 1, through: 100_000, by: 1_000) {
                    let user = try await connection.query("SELECT user_id FROM auth.user_info WHERE username = $1", ["user\(n)"])
                        .scalar(UserID.self)
                    if n % 2 == 1 { _ = try await auth.assignPermission(tenant: authTenant, to: .user(user), grant: .permission("users.view")) }
                    sample.append((user, n % 2 == 1))
                }
                return sample
            }
        }
        let counts = Mutex((checks: 0, wrong: 0, errors: 0))
        let load = Task {
            while !Task.isCancelled {
                let (user, expected) = sample.randomElement()!
                do {
                    let target = try await f.platform.directory.require(slug: "bench-1").connectionTarget
                    let granted = try await f.platform.connections.withConnection(to: target) { connection in
                        try await AuthClient(connection).hasPermission(tenant: authTenant, user: user, code: "users.view")
                    }
                    counts.withLock { $0.checks += 1; if granted != expected { $0.wrong += 1 } }
                } catch {
                    counts.withLock { $0.errors += 1 }
                }
            }
        }
        let report = try await TenantMover(platform: f.platform).move(slug: "bench-1", to: tenant.server.name == "s3" ? "s2" : "s3")
        load.cancel()
        _ = await load.result
        let seen = counts.withLock { $0 }
        #expect(seen.wrong == 0)
        print("moved a tenant of \(report.rows) rows from \(report.from) to \(report.to) in "
              + "\(MigrationBenchmark.seconds(report.duration)); writes refused \(MigrationBenchmark.seconds(report.writesRefused)); "
              + "\(seen.checks) checks meanwhile, \(seen.wrong) wrong, \(seen.errors) failed; steps "
              + report.steps.map { "\($0.step.rawValue) \(MigrationBenchmark.seconds($0.duration))" }.joined(separator: ", "))
    }
}
