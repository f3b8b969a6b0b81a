import Foundation
import PQ

/// Everything after creation: credentials, suspend and resume, connection test, delete.
public struct TenantLifecycle: Sendable {
    let platform: Platform

    public init(platform: Platform) {
        self.platform = platform
    }

    /// A tenant's generated secrets, decrypted.
    public struct Credentials: Sendable {
        public let adminEmail: String
        public let adminPassword: String
        public let roleName: String
        public let databaseName: String
        /// A libpq conninfo as the tenant's role, password included.
        public let conninfo: String
    }

    /// Decrypts the tenant's credentials; the access is audited.
    public func credentials(slug: String) async throws -> Credentials {
        let tenant = try await platform.directory.require(slug: slug)
        let record = tenant.record
        let cipher = platform.configuration.cipher
        let credentials = Credentials(
            adminEmail: record.adminEmail,
            adminPassword: try cipher.open(record.adminPasswordEncrypted, context: record.adminSecretContext),
            roleName: record.roleName, databaseName: record.databaseName,
            conninfo: try platform.configuration.tenantConninfo(tenant))
        try await platform.changeMaster { try await $0.audit("tenant.credentials_shown", tenant: record) }
        return credentials
    }

    /// Status `inactive`: the database stays, its role may no longer log in, open sessions
    /// end and the tenant's pool closes. See ``update(slug:_:)``.
    public func suspend(slug: String) async throws {
        try await update(slug: slug, TenantChange(status: .inactive))
    }

    /// Status `active` again, logins allowed. See ``update(slug:_:)``.
    public func resume(slug: String) async throws {
        try await update(slug: slug, TenantChange(status: .active))
    }

    /// Renames a tenant, changes its slug (its database and role keep their names) or sets
    /// its status, as one master-database change with one audit row.
    ///
    /// Every field is checked before anything is written. Suspending refuses the role's
    /// logins and ends its sessions before the registry says `inactive`; resuming allows
    /// logins only once the registry says `active`: a failure in between leaves the tenant
    /// closed, and the same update again finishes it. A new slug changes one column: pools
    /// and portal sessions belong to the tenant's id (a suspension ends the sessions by a
    /// trigger in the master database).
    ///
    /// - Returns: the tenant as it is now; unchanged when `change` is empty.
    /// - Throws: ``PlatformError`` `.invalidName`, `.invalidSlug`, `.invalidStatus`,
    ///   `.unknownTenant`, `.tenantExists` (slug taken), or `.tenantNotActive` for a status
    ///   change of a tenant still being created.
    @discardableResult
    public func update(slug: String, _ change: TenantChange) async throws -> TenantHandle {
        try await update(try await platform.directory.require(slug: slug).id, change)
    }

    /// ``update(slug:_:)`` of the tenant with this id: what the portal calls, so a rename
    /// racing with the request cannot aim it at another tenant.
    @discardableResult
    public func update(_ id: PlatformTenantID, _ change: TenantChange) async throws -> TenantHandle {
        let change = try change.validated()
        guard !change.isEmpty else { return try await platform.directory.require(id: id) }
        let updated = try await platform.changeMaster { tx in
            let directory = TenantDirectory(master: tx)
            let tenant = try await directory.lock(id: id)
            let slug = tenant.slug
            let change = change.dropping(unchangedFrom: tenant.record)
            guard !change.isEmpty else { return tenant }
            if change.status != nil {
                guard tenant.status == .active || tenant.status == .inactive else {
                    throw PlatformError(.tenantNotActive, "tenant '\(slug)' is \(tenant.status.rawValue)",
                                        hint: "Finish its creation first: `pgperm tenant create --resume \(slug)`.")
                }
                // The move copies the login role's state when it starts: a change now would
                // be lost on the new server.
                guard try await !directory.isMoving(id) else { throw Self.moving(slug) }
            }
            let updated = try await directory.update(tenant, change)
            try await tx.audit(change.auditAction, tenant: updated.record, details: change.auditDetails(before: tenant.record))
            // Last before the commit: a refused update must not leave the role suspended.
            if change.status == .inactive { try await setLogin(false, of: tenant) }
            return updated
        }
        // The status asked for, whether or not this update changed it: running a resume again
        // finishes one whose last step failed.
        switch change.status {
        case .inactive?: await platform.connections.closePool(tenant: updated.id)
        case .active?: try await setLogin(true, of: updated)
        default: break
        }
        return updated
    }

    /// Allows or refuses the tenant role's logins; refusing also ends its open sessions.
    func setLogin(_ allowed: Bool, of tenant: TenantHandle) async throws {
        let role = tenant.roleName
        try await platform.withAdminConnection(on: tenant.server) { admin in
            try await admin.query("ALTER ROLE \(quoteIdentifier(role)) \(allowed ? "LOGIN" : "NOLOGIN")")
            if !allowed {
                // Waits until they have exited, so no pooled connection outlives the suspension unnoticed.
                try await admin.query("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = $1", [role])
            }
        }
    }

    /// Drops the database (closing its sessions) and the roles, and removes the record;
    /// audited in the master database. Works in any status, so it also clears failed creations.
    public func delete(slug: String) async throws {
        try await delete(try await platform.directory.require(slug: slug).id)
    }

    /// ``delete(slug:)`` of the tenant with this id.
    public func delete(_ id: PlatformTenantID) async throws {
        let tenant = try await platform.directory.require(id: id)
        guard try await !platform.directory.isMoving(id) else { throw Self.moving(tenant.slug) }
        await platform.connections.closePool(tenant: tenant.id)
        try await dropDatabaseAndRoles(tenant.record, on: tenant.server)
        try await platform.changeMaster { tx in
            try await TenantDirectory(master: tx).delete(tenant.id)
            try await tx.audit("tenant.delete", tenant: tenant.record,
                               details: ["database": tenant.databaseName, "server": tenant.server.name])
        }
    }

    private static func moving(_ slug: String) -> PlatformError {
        PlatformError(.moveInProgress, "tenant '\(slug)' is being moved to another server",
                      hint: "Finish the move (`pgperm tenant move \(slug) --to SERVER`) or abort it (`--abort`), then try again.")
    }

    /// Drops the database on `server`, then the tenant's login and group roles there.
    func dropDatabaseAndRoles(_ record: TenantRecord, on server: DatabaseServer) async throws {
        try await platform.withAdminConnection(on: server) { admin in
            try await admin.query("DROP DATABASE IF EXISTS \(quoteIdentifier(record.databaseName)) WITH (FORCE)")
            try await TenantRoles(login: record.roleName).drop(on: admin)
        }
    }

    /// What `tenant test` reports.
    public struct ConnectionTest: Sendable {
        /// Connecting and running the first query, as the tenant's own role.
        public let latency: Duration
        /// The auth schema version installed in the tenant's database.
        public let schemaVersion: String?
        public let serverVersion: Int
        /// `pg_database_size` of its database.
        public let databaseSizeBytes: Int64
    }

    /// Connects with the tenant's own decrypted credentials and checks it can run a
    /// permission check; reads the installed schema version.
    ///
    /// - Throws: the server's refusal as is (a suspended tenant's role may not log in).
    public func test(slug: String) async throws -> ConnectionTest {
        let tenant = try await platform.directory.require(slug: slug)
        let conninfo = try platform.configuration.tenantConninfo(tenant)
        let started = ContinuousClock.now
        let connection = try await Connection.connect(conninfo, logger: platform.logger)
        let serverVersion = connection.serverVersion
        do {
            try await connection.query("SELECT auth.check_tenant_access(gen_random_uuid(), gen_random_uuid())")
            await connection.close()
        } catch {
            await connection.close()
            throw error
        }
        let latency = ContinuousClock.now - started
        let (version, size) = try await platform.withAdminConnection(on: tenant.server, database: tenant.databaseName) { admin in
            let row = try await admin.query("""
                SELECT (SELECT max(path) FROM pgperm.applied_file WHERE component = 'auth' AND path LIKE 'migrations/%'),
                       pg_database_size(current_database())
                """).rows[0]
            return (try row.decode(String?.self, at: 0), try row.decode(Int64.self, at: 1))
        }
        return ConnectionTest(latency: latency, schemaVersion: version.map(SchemaVersion.name(ofMigration:)),
                              serverVersion: serverVersion, databaseSizeBytes: size)
    }
}

/// Schema versions are migration file names without folder and extension (`0002_user_password`).
enum SchemaVersion {
    static func name(ofMigration path: String) -> String {
        String(path.split(separator: "/").last ?? Substring(path)).replacingOccurrences(of: ".sql", with: "")
    }
}
