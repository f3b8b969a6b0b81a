import Foundation
import PQ
import TenantPlatform
import Testing

extension PlatformFixture {
    /// A tenant row in the registry without a database or role: enough for code that only
    /// reads the registry (organizations, admin grants), and far faster than provisioning.
    func registerTenant(_ slug: String) async throws {
        let name = "\(configuration.tenantDatabasePrefix)_\(slug)"
        _ = try await strings("""
            INSERT INTO platform.tenant (name, slug, status, database_name, role_name, credentials_encrypted,
                                         admin_email, admin_password_encrypted, key_version)
            VALUES ($1, $1, 'active', $2, $2, 'unused', 'admin@example.com', 'unused', 1) RETURNING slug
            """, [slug, name], database: configuration.masterDatabase)
    }

    /// The platform audit log's actions, oldest first.
    func auditActions() async throws -> [String] {
        try await strings("SELECT action FROM platform.audit_log ORDER BY audit_id", database: configuration.masterDatabase)
    }

    /// Runs one query on the master database as the superuser; the first column of each row as text.
    func masterStrings(_ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> [String] {
        try await strings(sql, binds, database: configuration.masterDatabase)
    }
}

/// The kind of ``PlatformError`` the body throws; nil when it throws nothing, and an
/// issue recorded when it throws another error (a raw SQLSTATE leaking, say).
func platformErrorKind(_ body: () async throws -> Void) async -> PlatformError.Kind? {
    do {
        try await body()
        return nil
    } catch let error as PlatformError {
        return error.kind
    } catch {
        Issue.record("expected a PlatformError, got \(error)")
        return nil
    }
}
