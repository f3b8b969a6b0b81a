import Foundation
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

    public let id: UUID
    public var name: String
    public var slug: String
    public var status: Status
    public let databaseName: String
    public let roleName: String
    /// The tenant role's password, sealed (see ``CredentialCipher``).
    public let credentialsEncrypted: String
    public let adminEmail: String
    public let adminPasswordEncrypted: String
    public let keyVersion: Int
    public var schemaVersion: String?
    public var organizationID: UUID?
    public var provisioningStep: String?
    public var lastError: String?
    public var createdAt: Date?

    static let columns = """
        tenant_id, name, slug, status, database_name, role_name, credentials_encrypted, admin_email,
        admin_password_encrypted, key_version, schema_version, organization_id, provisioning_step, last_error, created_at
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
        databaseName = try row.decode(column: "database_name")
        roleName = try row.decode(column: "role_name")
        credentialsEncrypted = try row.decode(column: "credentials_encrypted")
        adminEmail = try row.decode(column: "admin_email")
        adminPasswordEncrypted = try row.decode(column: "admin_password_encrypted")
        keyVersion = try row.decode(column: "key_version")
        schemaVersion = try row.decode(column: "schema_version")
        organizationID = try row.decode(column: "organization_id")
        provisioningStep = try row.decode(column: "provisioning_step")
        lastError = try row.decode(column: "last_error")
        createdAt = try row.decode(column: "created_at")
    }

    init(id: UUID, name: String, slug: String, databaseName: String, roleName: String,
         credentialsEncrypted: String, adminEmail: String, adminPasswordEncrypted: String, keyVersion: Int) {
        self.id = id
        self.name = name
        self.slug = slug
        self.status = .provisioning
        self.databaseName = databaseName
        self.roleName = roleName
        self.credentialsEncrypted = credentialsEncrypted
        self.adminEmail = adminEmail
        self.adminPasswordEncrypted = adminPasswordEncrypted
        self.keyVersion = keyVersion
    }
}
