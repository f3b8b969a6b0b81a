import Foundation
import Permissions
import PQ

/// Applies pending schema migrations to tenant databases: the template first, then the
/// tenants, at most `jobs` at a time, each in its own installer transaction.
///
/// - Every tenant gets a `platform.tenant_migration` row (pending → running → succeeded or
///   failed, with versions, duration and error); a failed tenant stays at its old version
///   and the run goes on with the others.
/// - Active and inactive tenants are migrated: a suspended tenant must already be current
///   when it is resumed. Tenants still being created (`provisioning`, `failed`) are skipped;
///   finishing their creation installs the current schema.
/// - Every server's template (servers marked down excepted) is migrated first. If one fails,
///   the run stops before any tenant: new tenants would be cloned from a template behind the
///   tenants, so it is fixed first. The tenants stay pending.
/// - `jobs` bounds the tenants migrating at once across all servers.
/// - Each database is installed for its own roles (``TenantRoles``): a tenant created before
///   tenants had roles of their own (its login role a member of the server-wide
///   `auth_admin`) is moved to its own roles and loses that membership.
/// - `resume` continues the latest run: only its tenants that did not succeed are retried.
/// - One run at a time per master database (a session advisory lock).
public struct TenantMigrator: Sendable {
    /// Which tenants a run covers.
    public enum Selection: Sendable, Equatable {
        case all
        case slugs([String])
    }

    let platform: Platform

    public init(platform: Platform) {
        self.platform = platform
    }

    /// Runs a migration across tenants.
    ///
    /// - Parameters:
    ///   - manifest: the schema to migrate to; default the embedded auth schema.
    ///   - progress: called after every start and finish, from one task at a time.
    /// - Returns: the run; ``MigrationRun/succeeded`` is false when anything failed.
    /// - Throws: ``PlatformError`` `.migrationRunning` when another run holds the lock,
    ///   `.noMigrationToResume` when there is nothing to resume, `.unknownTenant` for an
    ///   unknown slug, or the master's error.
    public func migrate(
        tenants selection: Selection = .all, jobs: Int = 4, resume: Bool = false, manifest: SQLManifest? = nil,
        progress: @escaping @Sendable (MigrationProgress) -> Void = { _ in }
    ) async throws -> MigrationRun {
        let started = ContinuousClock.now
        let manifest = try manifest ?? .auth()
        let lock = try await acquireRunLock()
        do {
            let run = try await migrate(selection, jobs: max(1, jobs), resume: resume, manifest: manifest, progress: progress,
                                        started: started)
            await lock.close()
            return run
        } catch {
            await lock.close()
            throw error
        }
    }

    private func migrate(
        _ selection: Selection, jobs: Int, resume: Bool, manifest: SQLManifest,
        progress: @escaping @Sendable (MigrationProgress) -> Void, started: ContinuousClock.Instant
    ) async throws -> MigrationRun {
        let ledger = MigrationLedger(master: platform.master)
        let runID: UUID
        var candidates = try await select(selection)
        if resume {
            guard let latest = try await ledger.latestRun() else { throw PlatformError.noMigrationToResume }
            runID = latest
            let unfinished = try await ledger.unfinishedTenants(of: latest)
            candidates = candidates.filter { unfinished.contains($0.id) }
        } else {
            runID = MigrationRunID.make()
        }
        let tenants = candidates.filter { $0.status == .active || $0.status == .inactive }
        let skipped = candidates.filter { $0.status != .active && $0.status != .inactive }
            .map { MigrationRun.SkippedTenant(slug: $0.slug, status: $0.status) }
        if !resume { try await ledger.begin(runID, tenants: tenants.map(\.id)) }

        let migration = DatabaseMigration(manifest: manifest, appliesTenantDefaults: true, logger: platform.logger)
        var templates: [MigrationRun.ServerTemplate] = []
        for server in try await platform.servers.all() where server.status != .down {
            templates.append(.init(server: server.name, outcome: await migrateTemplate(
                on: server, migration, total: tenants.count, progress: progress)))
        }
        let results: [TenantMigrationResult]
        if templates.contains(where: { if case .failed = $0.outcome { true } else { false } }) {
            results = tenants.map {
                TenantMigrationResult(tenantID: $0.id, slug: $0.slug, status: .pending, fromVersion: $0.record.schemaVersion,
                                      toVersion: nil, duration: nil, error: nil)
            }
        } else {
            let window = SlidingWindow(jobs: jobs, total: tenants.count, progress: progress)
            results = await window.run(tenants) { tenant in
                await migrateTenant(tenant, runID: runID, migration: migration, ledger: ledger)
            }
        }
        return MigrationRun(runID: runID, resumed: resume, templates: templates, tenants: results.sorted { $0.slug < $1.slug },
                            skipped: skipped, duration: ContinuousClock.now - started)
    }

    /// The tenants named, in slug order; an unknown slug fails the run before it starts.
    private func select(_ selection: Selection) async throws -> [TenantHandle] {
        switch selection {
        case .all:
            return try await platform.directory.all()
        case .slugs(let slugs):
            var handles: [TenantHandle] = []
            for slug in Set(slugs).sorted() { handles.append(try await platform.directory.require(slug: slug)) }
            return handles
        }
    }

    private func migrateTemplate(
        on server: DatabaseServer, _ migration: DatabaseMigration, total: Int, progress: @Sendable (MigrationProgress) -> Void
    ) async -> MigrationRun.TemplateOutcome {
        let name = TenantNames.templateDatabase(prefix: platform.configuration.tenantDatabasePrefix)
        func report(_ event: MigrationProgress.Event) {
            progress(MigrationProgress(event: event, total: total, succeeded: 0, failed: 0, running: 0))
        }
        do {
            let exists = try await platform.withAdminConnection(on: server) { admin in
                try await !admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).isEmpty
            }
            guard exists else { return .absent }
            report(.templateStarted(server: server.name, database: name))
            let result = try await platform.withAdminConnection(on: server, database: name) { connection in
                try await migration.run(on: connection, database: name, roles: TenantRoles(template: name))
            }
            report(.templateFinished(server: server.name, result))
            return .migrated(result)
        } catch {
            report(.templateFailed(server: server.name, database: name, error: "\(error)"))
            return .failed(database: name, error: "\(error)")
        }
    }

    /// Never throws: whatever goes wrong becomes the tenant's failed result.
    private func migrateTenant(
        _ tenant: TenantHandle, runID: UUID, migration: DatabaseMigration, ledger: MigrationLedger
    ) async -> TenantMigrationResult {
        let started = ContinuousClock.now
        let record = tenant.record
        do {
            try await ledger.markRunning(runID, tenant: record.id)
            let result = try await platform.withAdminConnection(on: tenant.server, database: record.databaseName) { connection in
                try await migration.run(on: connection, database: record.databaseName, roles: TenantRoles(login: record.roleName))
            }
            try await ledger.markSucceeded(runID, tenant: record.id, result)
            return TenantMigrationResult(tenantID: record.id, slug: record.slug, status: .succeeded,
                                         fromVersion: result.fromVersion, toVersion: result.toVersion,
                                         duration: result.duration, error: nil)
        } catch {
            let duration = ContinuousClock.now - started
            let fromVersion = (error as? DatabaseMigration.Failure).map(\.fromVersion) ?? record.schemaVersion
            // If the master is unreachable the row stays running; resume retries running rows.
            try? await ledger.markFailed(runID, tenant: record.id, fromVersion: fromVersion, error: "\(error)", duration: duration)
            return TenantMigrationResult(tenantID: record.id, slug: record.slug, status: .failed, fromVersion: fromVersion,
                                         toVersion: nil, duration: duration, error: "\(error)")
        }
    }

    /// A dedicated master session holding the migration lock for the whole run; closing it
    /// (or the process dying) releases the lock.
    private func acquireRunLock() async throws -> Connection {
        let connection = try await Connection.connect(platform.configuration.masterConninfo, logger: platform.logger)
        do {
            let acquired = try await connection.query("SELECT pg_try_advisory_lock(hashtextextended('pgperm.migrate', 0))")
                .scalar(Bool.self)
            guard acquired else { throw PlatformError.migrationRunning }
            return connection
        } catch {
            await connection.close()
            throw error
        }
    }
}
