import Foundation
import PQ

/// A group of a tenant, as `auth.list_user_groups` lists them.
public struct UserGroup: Sendable, Hashable {
    public let id: UserGroupID
    /// Unique in the tenant; the key of the list's order (pass it as `after` for the next page).
    public let code: String
    public let name: String
    /// An inactive group grants nothing to its members.
    public let isActive: Bool
    public let memberCount: Int
    public let createdAt: Date
    public let updatedAt: Date

    init(row: Row) throws {
        id = try row.decode(column: "user_group_id")
        code = try row.decode(column: "code")
        name = try row.decode(column: "name")
        isActive = try row.decode(column: "is_active")
        memberCount = try row.decode(column: "member_count")
        createdAt = try row.decode(column: "created_at")
        updatedAt = try row.decode(column: "updated_at")
    }
}
