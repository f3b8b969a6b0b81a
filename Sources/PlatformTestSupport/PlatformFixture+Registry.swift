import Foundation
import PQ
import TenantPlatform

extension PlatformFixture {
    /// A tenant row in the registry without a database or role: enough for code that only
    /// reads the registry (organizations, admin grants), and far faster than provisioning.
    public func registerTenant(_ slug: String) async throws {
        let name = "\(configuration.tenantDatabasePrefix)_\(slug)"
        _ = try await strings("""
            INSERT INTO platform.tenant (name, slug, status, server_id, database_name, role_name, credentials_encrypted,
                                         admin_email, admin_password_encrypted, key_version)
            SELECT $1, $1, 'active', server_id, $2, $2, 'unused', 'admin@example.com', 'unused', 1
              FROM platform.database_server WHERE from_configuration
            RETURNING slug
            """, [slug, name], database: configuration.masterDatabase)
    }

    /// The platform audit log's actions, oldest first.
    public func auditActions() async throws -> [String] {
        try await strings("SELECT action FROM platform.audit_log ORDER BY audit_id", database: configuration.masterDatabase)
    }

    /// Makes every insert into the platform audit log fail (a trigger that raises), until
    /// ``allowAuditRows()``: a change whose audit row cannot be written must not commit.
    public func refuseAuditRows() async throws {
        _ = try await masterStrings("""
            CREATE FUNCTION platform.refuse_audit() RETURNS trigger LANGUAGE plpgsql
            AS $$ BEGIN RAISE EXCEPTION 'audit refused by the test' USING ERRCODE = 'XX000'; END $$
            """)
        _ = try await masterStrings("""
            CREATE TRIGGER refuse_audit BEFORE INSERT ON platform.audit_log FOR EACH ROW EXECUTE FUNCTION platform.refuse_audit()
            """)
    }

    public func allowAuditRows() async throws {
        _ = try await masterStrings("DROP FUNCTION platform.refuse_audit() CASCADE")
    }

    /// Runs one query on the master database as the superuser; the first column of each row as text.
    public func masterStrings(_ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> [String] {
        try await strings(sql, binds, database: configuration.masterDatabase)
    }
}
