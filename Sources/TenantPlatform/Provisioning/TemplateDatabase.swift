import Permissions
import PQ

/// The template database new tenant databases are cloned from (`<prefix>_template`): the
/// auth schema at the current version plus the tenant defaults. Cloning it takes a fraction
/// of the time replaying the schema does.
struct TemplateDatabase {
    let platform: Platform
    /// Each server has its own: `CREATE DATABASE ... TEMPLATE` clones within one server.
    let server: DatabaseServer
    var name: String { TenantNames.templateDatabase(prefix: platform.configuration.tenantDatabasePrefix) }

    /// Creates the template when missing and brings it up to date.
    func prepare() async throws {
        try await platform.withAdminConnection(on: server) { admin in
            guard try await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).isEmpty else { return }
            do {
                try await admin.query("CREATE DATABASE \(quoteIdentifier(name))")
            } catch let error as PostgresError where error.code == .duplicateDatabase {}
            // Nobody but the platform connects to it: a session on it would block cloning.
            try await admin.query("REVOKE ALL ON DATABASE \(quoteIdentifier(name)) FROM PUBLIC")
            try await admin.query("COMMENT ON DATABASE \(quoteIdentifier(name)) IS 'pgperm: template of new tenant databases'")
        }
        try await TenantSchema.apply(to: name, on: server, roles: TenantRoles(template: name), platform: platform)
    }
}

/// The auth schema and the tenant defaults, applied to one database.
enum TenantSchema {
    /// Installs or upgrades the schema for `roles` and applies the defaults; returns the
    /// schema version.
    @discardableResult
    static func apply(to database: String, on server: DatabaseServer, roles: TenantRoles, platform: Platform) async throws -> String? {
        let migration = DatabaseMigration(manifest: try .auth(), appliesTenantDefaults: true, logger: platform.logger)
        return try await platform.withAdminConnection(on: server, database: database) { connection in
            do {
                return try await migration.run(on: connection, database: database, roles: roles).toVersion
            } catch let failure as DatabaseMigration.Failure {
                throw failure.underlying
            }
        }
    }

    /// The default catalogue and permission-set templates; safe to apply again.
    static func applyDefaults(on connection: Connection) async throws {
        try await connection.withTransaction { connection in
            try await connection.execute(script: try SQLManifest.embeddedFile("platform/tenant_defaults.sql"))
        }
    }
}
