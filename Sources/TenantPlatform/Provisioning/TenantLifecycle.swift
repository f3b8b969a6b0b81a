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
        let record = try await platform.registry.require(slug: slug)
        let cipher = platform.configuration.cipher
        let credentials = Credentials(
            adminEmail: record.adminEmail,
            adminPassword: try cipher.open(record.adminPasswordEncrypted, context: record.adminSecretContext),
            roleName: record.roleName, databaseName: record.databaseName,
            conninfo: try platform.configuration.tenantConninfo(record))
        try await platform.registry.audit("tenant.credentials_shown", slug: slug)
        return credentials
    }

    /// Status `inactive`: the database stays, its role may no longer log in, open sessions
    /// end and the tenant's pool closes.
    public func suspend(slug: String) async throws {
        let record = try await platform.registry.require(slug: slug)
        try await platform.withAdminConnection { admin in
            try await admin.query("ALTER ROLE \(quoteIdentifier(record.roleName)) NOLOGIN")
            try await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [record.roleName])
        }
        await platform.connections.closePool(tenant: slug)
        try await platform.registry.setStatus(record.id, .inactive)
        try await platform.registry.audit("tenant.suspend", slug: slug)
    }

    /// Renames a tenant or changes its slug (the database keeps its name). A changed slug
    /// closes the pool kept under the old one, so that slug, if given to another tenant
    /// later, can never lead to this tenant's database.
    public func update(slug: String, name: String?, newSlug: String?) async throws {
        try await platform.registry.update(slug: slug, name: name, newSlug: newSlug)
        if let newSlug, newSlug != slug {
            await platform.connections.closePool(tenant: slug)
        }
    }

    /// Status `active` again, logins allowed.
    public func resume(slug: String) async throws {
        let record = try await platform.registry.require(slug: slug)
        guard record.status == .inactive || record.status == .active else {
            throw PlatformError(.tenantNotActive, "tenant '\(slug)' is \(record.status.rawValue)",
                                hint: "Finish its creation first: `pgperm tenant create --resume \(slug)`.")
        }
        try await platform.withAdminConnection { admin in
            try await admin.query("ALTER ROLE \(quoteIdentifier(record.roleName)) LOGIN")
        }
        try await platform.registry.setStatus(record.id, .active)
        try await platform.registry.audit("tenant.resume", slug: slug)
    }

    /// Drops the database (closing its sessions) and the role, and removes the record;
    /// audited in the master database. Works in any status, so it also clears failed creations.
    public func delete(slug: String) async throws {
        let record = try await platform.registry.require(slug: slug)
        await platform.connections.closePool(tenant: slug)
        try await dropDatabaseAndRole(record)
        try await platform.registry.delete(record.id)
        try await platform.registry.audit("tenant.delete", slug: slug, details: ["database": record.databaseName])
    }

    func dropDatabaseAndRole(_ record: TenantRecord) async throws {
        try await platform.withAdminConnection { admin in
            try await admin.query("DROP DATABASE IF EXISTS \(quoteIdentifier(record.databaseName)) WITH (FORCE)")
            try await admin.query("DROP ROLE IF EXISTS \(quoteIdentifier(record.roleName))")
        }
    }

    /// What `tenant test` reports.
    public struct ConnectionTest: Sendable {
        /// Connecting and running the first query, as the tenant's own role.
        public let latency: Duration
        /// The auth schema version installed in the tenant's database.
        public let schemaVersion: String?
        public let serverVersion: Int
    }

    /// Connects with the tenant's own decrypted credentials and checks it can run a
    /// permission check; reads the installed schema version.
    ///
    /// - Throws: the server's refusal as is (a suspended tenant's role may not log in).
    public func test(slug: String) async throws -> ConnectionTest {
        let record = try await platform.registry.require(slug: slug)
        let conninfo = try platform.configuration.tenantConninfo(record)
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
        let version = try await platform.withAdminConnection(database: record.databaseName) { admin in
            try await admin.query("""
                SELECT max(path) FROM pgperm.applied_file WHERE component = 'auth' AND path LIKE 'migrations/%'
                """).scalar(String?.self)
        }
        return ConnectionTest(latency: latency, schemaVersion: version.map(SchemaVersion.name(ofMigration:)),
                              serverVersion: serverVersion)
    }
}

/// Schema versions are migration file names without folder and extension (`0002_user_password`).
enum SchemaVersion {
    static func name(ofMigration path: String) -> String {
        String(path.split(separator: "/").last ?? Substring(path)).replacingOccurrences(of: ".sql", with: "")
    }
}
