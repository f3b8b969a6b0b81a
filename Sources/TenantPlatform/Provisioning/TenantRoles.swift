import Crypto
import Foundation
import Permissions
import PQ

/// The roles of one tenant database: the tenant's login role and the two NOLOGIN group
/// roles its auth schema is installed with, `<groupPrefix>_admin` and `<groupPrefix>_app`.
///
/// Why group roles of its own: roles belong to the whole server, grants to one database. A
/// login role that is a member of a group role several databases grant (the default
/// `auth_admin`) holds that role's rights in each of them: `pgperm up`'s database, another
/// install's, another tenant's. A tenant's group roles are granted in its database only
/// (`privileges.sql` revokes every other role there), and its login role is a member of its
/// own admin role only.
public struct TenantRoles: Sendable, Equatable {
    /// The tenant's login role; nil for the template database, which has none.
    public let login: String?
    /// The installer's role prefix (`SchemaInstaller(rolePrefix:)`) for the database.
    public let groupPrefix: String

    public var admin: String { groupPrefix + "_admin" }
    public var app: String { groupPrefix + "_app" }
    /// Every role, the login role first.
    public var all: [String] { (login.map { [$0] } ?? []) + [admin, app] }

    /// A tenant's roles, named after its login role (`<prefix>_<slug>_admin`).
    public init(login: String) {
        self.login = login
        groupPrefix = Self.groupPrefix(for: login)
    }

    /// The template database's group roles (`<prefix>_template_admin`): nobody is a member,
    /// and each clone revokes them when it is given its tenant's roles.
    public init(template database: String) {
        login = nil
        groupPrefix = Self.groupPrefix(for: database)
    }

    /// `name` itself when `<name>_admin` fits PostgreSQL's 63-byte names; otherwise its first
    /// 42 characters and 8 hex digits of its SHA-256, so that two long names stay distinct
    /// instead of being truncated by the server into one. Names are ASCII (slugs and the
    /// prefix are validated), so characters are bytes.
    static func groupPrefix(for name: String) -> String {
        guard name.utf8.count > SchemaInstaller.maximumRolePrefixLength else { return name }
        let digest = SHA256.hash(data: Data(name.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
        return name.prefix(42) + "_" + digest
    }

    /// Makes each role a member of exactly what it needs and nothing else: the login role of
    /// its admin role, the admin role of its app role (granted by `privileges.sql`), the app
    /// role of nothing. Any other membership is revoked: `auth_admin` of a tenant created
    /// before tenants had roles of their own, or a grant made by hand.
    ///
    /// - Parameter admin: a connection as the platform's admin, to any database (roles are
    ///   server-wide).
    func confine(on admin: Connection) async throws {
        var allowed = [self.admin: app]
        if let login {
            try await admin.query("GRANT \(quoteIdentifier(self.admin)) TO \(quoteIdentifier(login))")
            allowed[login] = self.admin
        }
        let memberships = try await admin.query("""
            SELECT m.rolname::text, g.rolname::text
              FROM pg_catalog.pg_auth_members am
              JOIN pg_catalog.pg_roles m ON m.oid = am.member
              JOIN pg_catalog.pg_roles g ON g.oid = am.roleid
             WHERE m.rolname = ANY ($1)
            """, [all]).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
        for (member, group) in memberships where allowed[member] != group {
            try await admin.query("REVOKE \(quoteIdentifier(group)) FROM \(quoteIdentifier(member))")
        }
    }

    /// Drops the roles that exist. Drop the database first: a role that still holds a grant
    /// anywhere cannot be dropped, and the error says where.
    func drop(on admin: Connection) async throws {
        for role in all {
            try await admin.query("DROP ROLE IF EXISTS \(quoteIdentifier(role))")
        }
    }
}
