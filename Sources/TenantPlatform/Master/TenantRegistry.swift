import Foundation
import PQ

/// The tenant rows of the master database, and the platform audit log.
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

    /// The tenant, or ``PlatformError`` `.unknownTenant` with the known slugs in the hint.
    public func require(slug: String) async throws -> TenantRecord {
        if let record = try await find(slug: slug) { return record }
        throw PlatformError(.unknownTenant, "no tenant has slug '\(slug)'", hint: "`pgperm tenant list` shows the tenants.")
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

    /// Renames a tenant or changes its slug (the database keeps its name).
    public func update(slug: String, name: String?, newSlug: String?) async throws {
        if let newSlug { try TenantNames.validate(slug: newSlug) }
        let name = try name.map { try DisplayName.normalized($0, of: "tenant") }
        let record = try await require(slug: slug)
        do {
            try await master.query("""
                UPDATE platform.tenant SET name = coalesce($2, name), slug = coalesce($3, slug), updated_at = now()
                WHERE tenant_id = $1
                """, [record.id, name, newSlug], prepared: false)
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw PlatformError(.tenantExists, "slug '\(newSlug ?? "")' is taken", hint: "Pick another slug.")
        }
        try await audit("tenant.update", slug: newSlug ?? slug, details: ["name": name ?? record.name, "old_slug": slug])
    }

    func delete(_ id: UUID) async throws {
        try await master.query("DELETE FROM platform.tenant WHERE tenant_id = $1", [id], prepared: false)
    }

    /// Appends to the platform audit log.
    func audit(_ action: String, slug: String?, details: [String: String] = [:]) async throws {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: details, options: [.sortedKeys]), as: UTF8.self)
        try await master.query("INSERT INTO platform.audit_log (action, tenant_slug, details) VALUES ($1, $2, $3::jsonb)",
                               [action, slug, json], prepared: false)
    }
}
