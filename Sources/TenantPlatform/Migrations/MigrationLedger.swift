import Foundation
import PQ

/// The `platform.tenant_migration` rows of migration runs: pending → running →
/// succeeded or failed, with versions, duration and error.
struct MigrationLedger {
    let master: ConnectionPool

    /// Records every tenant of a new run as pending, so a run stopped early can be resumed.
    func begin(_ runID: UUID, tenants: [PlatformTenantID]) async throws {
        guard !tenants.isEmpty else { return }
        try await master.query("""
            INSERT INTO platform.tenant_migration (run_id, tenant_id, status) SELECT $1, unnest($2::uuid[]), 'pending'
            """, [runID, tenants])
    }

    /// The latest run (run ids are time-ordered, see ``MigrationRunID``).
    func latestRun() async throws -> UUID? {
        try await master.query("SELECT run_id FROM platform.tenant_migration ORDER BY run_id DESC LIMIT 1")
            .rows.first?.decode(UUID.self, at: 0)
    }

    /// Tenants of the run that did not succeed: failed, pending, or left running by an
    /// interrupted process (its installer transaction was rolled back with the session).
    func unfinishedTenants(of runID: UUID) async throws -> Set<PlatformTenantID> {
        Set(try await master.query("""
            SELECT tenant_id FROM platform.tenant_migration WHERE run_id = $1 AND status <> 'succeeded'
            """, [runID]).rows.map { try $0.decode(PlatformTenantID.self, at: 0) })
    }

    func markRunning(_ runID: UUID, tenant: PlatformTenantID) async throws {
        try await master.query("""
            UPDATE platform.tenant_migration
            SET status = 'running', started_at = now(), finished_at = NULL, duration_ms = NULL, error = NULL,
                from_version = NULL, to_version = NULL
            WHERE run_id = $1 AND tenant_id = $2
            """, [runID, tenant])
    }

    /// The result row and the registry's schema version change together.
    func markSucceeded(_ runID: UUID, tenant: PlatformTenantID, _ result: SchemaMigrationResult) async throws {
        try await master.withTransaction { master in
            try await master.query("""
                UPDATE platform.tenant_migration
                SET status = 'succeeded', from_version = $3, to_version = $4, finished_at = now(), duration_ms = $5
                WHERE run_id = $1 AND tenant_id = $2
                """, [runID, tenant, result.fromVersion, result.toVersion, result.duration.wholeMilliseconds])
            try await master.query("UPDATE platform.tenant SET schema_version = $2, updated_at = now() WHERE tenant_id = $1",
                                   [tenant, result.toVersion])
        }
    }

    func markFailed(_ runID: UUID, tenant: PlatformTenantID, fromVersion: String?, error: String, duration: Duration) async throws {
        try await master.query("""
            UPDATE platform.tenant_migration
            SET status = 'failed', from_version = $3, finished_at = now(), duration_ms = $4, error = $5
            WHERE run_id = $1 AND tenant_id = $2
            """, [runID, tenant, fromVersion, duration.wholeMilliseconds, error])
    }
}

extension Duration {
    var wholeMilliseconds: Int {
        Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
    }
}
