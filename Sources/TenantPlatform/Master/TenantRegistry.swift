import Foundation
import PQ

/// The tenant rows of the master database. Changes that need an audit row run on a
/// ``MasterChange`` (`TenantRegistry(master: change)`).
public struct TenantRegistry: Sendable {
    let master: any QueryExecutor

    public init(master: any QueryExecutor) {
        self.master = master
    }

    public func all() async throws -> [TenantRecord] {
        try await master.query("SELECT \(TenantRecord.columns) FROM platform.tenant ORDER BY slug", [], prepared: false)
            .map(TenantRecord.init(row:))
    }

    public func find(slug: String) async throws -> TenantRecord? {
        try await master.query("SELECT \(TenantRecord.columns) FROM platform.tenant WHERE slug = $1", [slug], prepared: false)
            .rows.first.map(TenantRecord.init(row:))
    }

    /// The tenant, or ``PlatformError`` `.unknownTenant`.
    /// Whether a registered tenant has this database or role name (e.g. one renamed away
    /// from the slug the names were made from).
    func usesNames(_ names: TenantNames) async throws -> Bool {
        try await !master.query("SELECT 1 FROM platform.tenant WHERE database_name = $1 OR role_name = $2",
                                [names.databaseName, names.roleName], prepared: false).isEmpty
    }

    public func require(slug: String) async throws -> TenantRecord {
        if let record = try await find(slug: slug) { return record }
        throw Self.unknown(slug)
    }

    /// The tenant, its row locked until the transaction ends (`FOR UPDATE`).
    func lock(slug: String) async throws -> TenantRecord {
        guard let row = try await master.query("SELECT \(TenantRecord.columns) FROM platform.tenant WHERE slug = $1 FOR UPDATE",
                                               [slug], prepared: false).rows.first else { throw Self.unknown(slug) }
        return try TenantRecord(row: row)
    }

    private static func unknown(_ slug: String) -> PlatformError {
        PlatformError(.unknownTenant, "no tenant has slug '\(slug)'", hint: "`pgperm tenant list` shows the tenants.")
    }

    func insert(_ record: TenantRecord) async throws {
        do {
            try await master.query("""
                INSERT INTO platform.tenant (tenant_id, name, slug, status, database_name, role_name, credentials_encrypted,
                                             admin_email, admin_password_encrypted, key_version)
                VALUES ($1, $2, $3, 'provisioning', $4, $5, $6, $7, $8, $9)
                """, [record.id, record.name, record.slug, record.databaseName, record.roleName, record.credentialsEncrypted,
                      record.adminEmail, record.adminPasswordEncrypted, record.keyVersion], prepared: false)
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw PlatformError(.tenantExists, "a tenant with slug '\(record.slug)' (or its database name) exists",
                                hint: "Pick another slug; `pgperm tenant list` shows the ones in use.")
        }
    }

    func recordStep(_ id: UUID, step: String) async throws {
        try await master.query("UPDATE platform.tenant SET provisioning_step = $2, updated_at = now() WHERE tenant_id = $1",
                               [id, step], prepared: false)
    }

    func setStatus(_ id: UUID, _ status: TenantRecord.Status, error: String? = nil) async throws {
        try await master.query("UPDATE platform.tenant SET status = $2, last_error = $3, updated_at = now() WHERE tenant_id = $1",
                               [id, status.rawValue, error], prepared: false)
    }

    func setSchemaVersion(_ id: UUID, _ version: String?) async throws {
        try await master.query("UPDATE platform.tenant SET schema_version = $2, updated_at = now() WHERE tenant_id = $1",
                               [id, version], prepared: false)
    }

    /// Writes the fields of `change` that are set and returns the row as it is now.
    ///
    /// - Parameter record: the tenant, locked by ``lock(slug:)`` in this transaction.
    /// - Throws: ``PlatformError`` `.tenantExists` when the new slug is taken.
    func update(_ record: TenantRecord, _ change: TenantChange) async throws -> TenantRecord {
        let row: Row?
        do {
            row = try await master.query("""
                UPDATE platform.tenant SET name = coalesce($2, name), slug = coalesce($3, slug), status = coalesce($4, status),
                                           updated_at = now()
                 WHERE tenant_id = $1 RETURNING \(TenantRecord.columns)
                """, [record.id, change.name, change.slug, change.status?.rawValue], prepared: false).rows.first
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw PlatformError(.tenantExists, "slug '\(change.slug ?? "")' is taken", hint: "Pick another slug.")
        }
        guard let row else { throw Self.unknown(record.slug) }
        return try TenantRecord(row: row)
    }

    func delete(_ id: UUID) async throws {
        try await master.query("DELETE FROM platform.tenant WHERE tenant_id = $1", [id], prepared: false)
    }
}
