import Foundation
import Permissions
import PQ

/// A tenant as the master registry records it.
public struct TenantRecord: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        /// Being created; `tenant create --resume` finishes it.
        case provisioning
        case active
        /// Suspended: the database is kept, logins are refused.
        case inactive
        /// Creation stopped and could not be rolled back; `--resume` or `tenant delete`.
        case failed
    }

    public let id: PlatformTenantID
    public var name: String
    public var slug: String
    public var status: Status
    /// The server holding its database and roles.
    public var serverID: ServerID
    public let databaseName: String
    public let roleName: String
    /// The tenant role's password, sealed (see ``CredentialCipher``).
    public let credentialsEncrypted: String
    public let adminEmail: String
    public let adminPasswordEncrypted: String
    public let keyVersion: Int
    public var schemaVersion: String?
    public var organizationID: OrganizationID?
    /// The tenant's row inside its own database (`auth.tenant.tenant_id`), recorded when the
    /// database is seeded; nil until then.
    public var authTenantID: TenantID?
    public var provisioningStep: String?
    public var lastError: String?
    public var createdAt: Date?
    /// The last change of its registry row (name, slug, status, server, organization, schema).
    public var updatedAt: Date?

    /// The columns of `platform.tenant t`.
    static let columns = """
        t.tenant_id, t.name, t.slug, t.status, t.server_id, t.database_name, t.role_name, t.credentials_encrypted,
        t.admin_email, t.admin_password_encrypted, t.key_version, t.schema_version, t.organization_id, t.auth_tenant_id,
        t.provisioning_step, t.last_error, t.created_at, t.updated_at
        """

    init(row: Row) throws {
        id = try row.decode(column: "tenant_id")
        name = try row.decode(column: "name")
        slug = try row.decode(column: "slug")
        let status: String = try row.decode(column: "status")
        guard let parsed = Status(rawValue: status) else {
            throw PostgresError(kind: .decoding, message: "unknown tenant status \(status)")
        }
        self.status = parsed
        serverID = try row.decode(column: "server_id")
        databaseName = try row.decode(column: "database_name")
        roleName = try row.decode(column: "role_name")
        credentialsEncrypted = try row.decode(column: "credentials_encrypted")
        adminEmail = try row.decode(column: "admin_email")
        adminPasswordEncrypted = try row.decode(column: "admin_password_encrypted")
        keyVersion = try row.decode(column: "key_version")
        schemaVersion = try row.decode(column: "schema_version")
        organizationID = try row.decode(column: "organization_id")
        authTenantID = try row.decode(column: "auth_tenant_id")
        provisioningStep = try row.decode(column: "provisioning_step")
        lastError = try row.decode(column: "last_error")
        createdAt = try row.decode(column: "created_at")
        updatedAt = try row.decode(column: "updated_at")
    }

    init(id: PlatformTenantID, name: String, slug: String, serverID: ServerID, databaseName: String, roleName: String,
         credentialsEncrypted: String, adminEmail: String, adminPasswordEncrypted: String, keyVersion: Int) {
        self.id = id
        self.name = name
        self.slug = slug
        self.status = .provisioning
        self.serverID = serverID
        self.databaseName = databaseName
        self.roleName = roleName
        self.credentialsEncrypted = credentialsEncrypted
        self.adminEmail = adminEmail
        self.adminPasswordEncrypted = adminPasswordEncrypted
        self.keyVersion = keyVersion
    }
}
