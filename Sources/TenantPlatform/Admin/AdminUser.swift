import Foundation
import PQ

/// A user of the admin portal (not a tenant's application user).
public struct AdminUser: Sendable, Equatable {
    public enum Role: String, Sendable {
        /// Manages the tenants granted to it.
        case admin
        /// Manages every tenant, and the admin users.
        case superadmin
    }

    public let id: AdminUserID
    public let email: String
    public let role: Role
    /// An inactive admin user cannot sign in.
    public let isActive: Bool
    /// The tenants granted to a regular admin (ids, and slugs in the same order);
    /// superadmins need none.
    public let tenantIDs: [PlatformTenantID]
    public let tenantSlugs: [String]
    public let createdAt: Date

    public var isSuperadmin: Bool { role == .superadmin }

    /// Whether this user, as read, may manage the tenant: the rule of
    /// ``AdminUserStore/canManage(_:tenant:)`` without asking the database again.
    public func manages(tenant id: PlatformTenantID) -> Bool {
        isActive && (isSuperadmin || tenantIDs.contains(id))
    }

    /// Selects admin users with their tenants; `WHERE` clauses name the table `a`.
    static let select = """
        SELECT a.admin_user_id, a.email, a.is_superadmin, a.is_active, a.created_at,
               ARRAY(SELECT t.slug FROM platform.admin_user_tenant g JOIN platform.tenant t ON t.tenant_id = g.tenant_id
                      WHERE g.admin_user_id = a.admin_user_id ORDER BY t.slug) AS tenant_slugs,
               ARRAY(SELECT t.tenant_id FROM platform.admin_user_tenant g JOIN platform.tenant t ON t.tenant_id = g.tenant_id
                      WHERE g.admin_user_id = a.admin_user_id ORDER BY t.slug) AS tenant_ids
          FROM platform.admin_user a
        """

    init(row: Row) throws {
        id = try row.decode(column: "admin_user_id")
        email = try row.decode(column: "email")
        role = try row.decode(Bool.self, column: "is_superadmin") ? .superadmin : .admin
        isActive = try row.decode(column: "is_active")
        tenantSlugs = try row.decode(column: "tenant_slugs")
        tenantIDs = try row.decode([UUID].self, column: "tenant_ids").map(PlatformTenantID.init)
        createdAt = try row.decode(column: "created_at")
    }
}

/// A new admin user, and its password when the platform generated it: shown once, never stored.
public struct CreatedAdminUser: Sendable {
    public let user: AdminUser
    public let generatedPassword: String?
}
