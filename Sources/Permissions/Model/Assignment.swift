import Foundation
import PQ

/// An assignment of a tenant, as `auth.list_permission_assignments` lists them.
public struct Assignment: Sendable, Hashable {
    public let id: AssignmentID
    /// The user or group it is assigned to.
    public let grantee: Grantee
    /// The grantee's username, or the group's code.
    public let granteeName: String
    /// The set (by code) or the single code it grants.
    public let grant: Grant
    /// The granted set's id, when it grants a set.
    public let permSetID: PermSetID?
    public let createdAt: Date

    /// The key of the list's order: pass it as `after` for the next page.
    public var cursor: CreationCursor<AssignmentID> { CreationCursor(createdAt: createdAt, id: id) }

    init(row: Row) throws {
        id = try row.decode(column: "assignment_id")
        if let user: UserID = try row.decode(column: "user_id") {
            grantee = .user(user)
            granteeName = try row.decode(column: "username")
        } else {
            grantee = .group(try row.decode(column: "user_group_id"))
            granteeName = try row.decode(column: "user_group_code")
        }
        permSetID = try row.decode(column: "perm_set_id")
        if let permSet: String = try row.decode(column: "perm_set_code") {
            grant = .permSet(permSet)
        } else {
            grant = .permission(try row.decode(column: "perm_code"))
        }
        createdAt = try row.decode(column: "created_at")
    }
}
