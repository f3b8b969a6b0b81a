import Foundation
import PQ

/// A member of a tenant, as `auth.get_tenant_users` lists them.
public struct TenantUser: Sendable, Hashable {
    public let userID: UserID
    public let username: String
    public let email: String?
    public let displayName: String?
    /// Membership and user both active.
    public let isActive: Bool
    public let joinedAt: Date

    init(row: Row) throws {
        userID = try row.decode(column: "user_id")
        username = try row.decode(column: "username")
        email = try row.decode(column: "email")
        displayName = try row.decode(column: "display_name")
        isActive = try row.decode(column: "is_active")
        joinedAt = try row.decode(column: "joined_at")
    }
}
