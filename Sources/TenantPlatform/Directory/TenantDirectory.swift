import Foundation
import Permissions
import PQ

/// Finds tenants, by id or by slug, as ``TenantHandle``s: the one way every part of the
/// platform reaches a tenant. Changes that need an audit row run on a ``MasterChange``
/// (`TenantDirectory(master: change)`).
public struct TenantDirectory: Sendable {
    let master: any QueryExecutor

    public init(master: any QueryExecutor) {
        self.master = master
    }

    private static let select = """
        SELECT \(TenantRecord.columns), \(DatabaseServer.columns)
          FROM platform.tenant t JOIN platform.database_server s ON s.server_id = t.server_id
        """

    private func handles(_ condition: String, _ binds: [any PostgresEncodable]) async throws -> [TenantHandle] {
        try await master.query("\(Self.select) \(condition)", binds, prepared: false).map { row in
            TenantHandle(record: try TenantRecord(row: row), server: try DatabaseServer(row: row))
        }
    }

    /// Every tenant, by slug; only those on `server` when given.
    public func all(on server: ServerID? = nil) async throws -> [TenantHandle] {
        guard let server else { return try await handles("ORDER BY t.slug", []) }
        return try await handles("WHERE t.server_id = $1 ORDER BY t.slug", [server])
    }

    public func find(slug: String) async throws -> TenantHandle? {
        try await handles("WHERE t.slug = $1", [slug]).first
    }

    public func find(id: PlatformTenantID) async throws -> TenantHandle? {
        try await handles("WHERE t.tenant_id = $1", [id]).first
    }

    /// Whether the tenant has had this slug, now or before a rename. Every master change of a
    /// tenant, its creation and each rename included, writes an audit row with the tenant's
    /// id and its slug of the moment, so the audit log is the history of its names (rows
    /// written before the log recorded tenant ids do not count).
    public func hasBeenNamed(_ slug: String, id: PlatformTenantID) async throws -> Bool {
        try await !master.query("SELECT 1 FROM platform.audit_log WHERE tenant_id = $1 AND tenant_slug = $2 LIMIT 1",
                                [id, slug], prepared: false).isEmpty
    }

    /// The tenant, or ``PlatformError`` `.unknownTenant`.
    public func require(slug: String) async throws -> TenantHandle {
        if let handle = try await find(slug: slug) { return handle }
        throw Self.unknown("slug '\(slug)'")
    }

    /// The tenant, or ``PlatformError`` `.unknownTenant`.
    public func require(id: PlatformTenantID) async throws -> TenantHandle {
        if let handle = try await find(id: id) { return handle }
        throw Self.unknown("id \(id)")
    }

    /// The tenant, its row locked until the transaction ends (`FOR UPDATE`).
    func lock(slug: String) async throws -> TenantHandle {
        guard let handle = try await handles("WHERE t.slug = $1 FOR UPDATE OF t", [slug]).first else {
            throw Self.unknown("slug '\(slug)'")
        }
        return handle
    }

    /// The tenant, its row locked until the transaction ends (`FOR UPDATE`).
    func lock(id: PlatformTenantID) async throws -> TenantHandle {
        guard let handle = try await handles("WHERE t.tenant_id = $1 FOR UPDATE OF t", [id]).first else {
            throw Self.unknown("id \(id)")
        }
        return handle
    }

    /// Whether a move of the tenant to another server is in progress (`pgperm tenant move`).
    func isMoving(_ id: PlatformTenantID) async throws -> Bool {
        try await !master.query("SELECT 1 FROM platform.tenant_move WHERE tenant_id = $1", [id], prepared: false).isEmpty
    }

    private static func unknown(_ key: String) -> PlatformError {
        PlatformError(.unknownTenant, "no tenant has \(key)", hint: "`pgperm tenant list` shows the tenants.")
    }

    /// Whether a registered tenant has this database or role name (e.g. one renamed away
    /// from the slug the names were made from).
    func usesNames(_ names: TenantNames) async throws -> Bool {
        try await !master.query("SELECT 1 FROM platform.tenant WHERE database_name = $1 OR role_name = $2",
                                [names.databaseName, names.roleName], prepared: false).isEmpty
    }

    func insert(_ record: TenantRecord) async throws {
        do {
            try await master.query("""
                INSERT INTO platform.tenant (tenant_id, name, slug, status, server_id, database_name, role_name,
                                             credentials_encrypted, admin_email, admin_password_encrypted, key_version)
                VALUES ($1, $2, $3, 'provisioning', $4, $5, $6, $7, $8, $9, $10)
                """, [record.id, record.name, record.slug, record.serverID, record.databaseName, record.roleName,
                      record.credentialsEncrypted, record.adminEmail, record.adminPasswordEncrypted, record.keyVersion],
                prepared: false)
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw PlatformError(.tenantExists, "tenant \(record.slug) already exists",
                                hint: "Pick another slug; `pgperm tenant list` shows the ones in use.")
        }
    }

    func recordStep(_ id: PlatformTenantID, step: String) async throws {
        try await master.query("UPDATE platform.tenant SET provisioning_step = $2, updated_at = now() WHERE tenant_id = $1",
                               [id, step], prepared: false)
    }

    func setStatus(_ id: PlatformTenantID, _ status: TenantRecord.Status, error: String? = nil) async throws {
        try await master.query("UPDATE platform.tenant SET status = $2, last_error = $3, updated_at = now() WHERE tenant_id = $1",
                               [id, status.rawValue, error], prepared: false)
    }

    func setSchemaVersion(_ id: PlatformTenantID, _ version: String?) async throws {
        try await master.query("UPDATE platform.tenant SET schema_version = $2, updated_at = now() WHERE tenant_id = $1",
                               [id, version], prepared: false)
    }

    func setAuthTenant(_ id: PlatformTenantID, _ authTenant: TenantID) async throws {
        try await master.query("UPDATE platform.tenant SET auth_tenant_id = $2, updated_at = now() WHERE tenant_id = $1",
                               [id, authTenant], prepared: false)
    }

    /// The tenant now lives on `server` (a move's switch).
    func setServer(_ id: PlatformTenantID, _ server: ServerID) async throws {
        try await master.query("UPDATE platform.tenant SET server_id = $2, updated_at = now() WHERE tenant_id = $1",
                               [id, server], prepared: false)
    }

    /// Writes the fields of `change` that are set and returns the tenant as it is now.
    ///
    /// - Parameter handle: the tenant, locked by ``lock(slug:)`` in this transaction.
    /// - Throws: ``PlatformError`` `.tenantExists` when the new slug is taken.
    func update(_ handle: TenantHandle, _ change: TenantChange) async throws -> TenantHandle {
        do {
            try await master.query("""
                UPDATE platform.tenant SET name = coalesce($2, name), slug = coalesce($3, slug), status = coalesce($4, status),
                                           updated_at = now()
                 WHERE tenant_id = $1
                """, [handle.id, change.name, change.slug, change.status?.rawValue], prepared: false)
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw PlatformError(.tenantExists, "tenant \(change.slug ?? "") already exists", hint: "Pick another slug.")
        }
        return try await require(id: handle.id)
    }

    func delete(_ id: PlatformTenantID) async throws {
        try await master.query("DELETE FROM platform.tenant WHERE tenant_id = $1", [id], prepared: false)
    }
}
