import Foundation
import PQ

/// A member of a group, as `auth.list_group_members` lists them.
public struct GroupMember: Sendable, Hashable {
    public let userID: UserID
    /// The key of the list's order, ignoring case (pass it as `after` for the next page).
    public let username: String
    public let email: String?
    public let displayName: String?
    /// The user's membership of the tenant and the user are both active.
    public let isActive: Bool
    /// When the user joined the group.
    public let addedAt: Date

    init(row: Row) throws {
        userID = try row.decode(column: "user_id")
        username = try row.decode(column: "username")
        email = try row.decode(column: "email")
        displayName = try row.decode(column: "display_name")
        isActive = try row.decode(column: "is_active")
        addedAt = try row.decode(column: "added_at")
    }
}
