import Foundation
import PQ
import TenantPlatform

extension PlatformFixture {
    /// A tenant row in the registry without a database or role: enough for code that only
    /// reads the registry (organizations, admin grants), and far faster than provisioning.
    public func registerTenant(_ slug: String) async throws {
        let name = "\(configuration.tenantDatabasePrefix)_\(slug)"
        _ = try await strings("""
            INSERT INTO platform.tenant (name, slug, status, database_name, role_name, credentials_encrypted,
                                         admin_email, admin_password_encrypted, key_version)
            VALUES ($1, $1, 'active', $2, $2, 'unused', 'admin@example.com', 'unused', 1) RETURNING slug
            """, [slug, name], database: configuration.masterDatabase)
    }

    /// The platform audit log's actions, oldest first.
    public func auditActions() async throws -> [String] {
        try await strings("SELECT action FROM platform.audit_log ORDER BY audit_id", database: configuration.masterDatabase)
    }

    /// Runs one query on the master database as the superuser; the first column of each row as text.
    public func masterStrings(_ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> [String] {
        try await strings(sql, binds, database: configuration.masterDatabase)
    }
}
