import Foundation
import PQ

/// A permission set of a tenant, or a template, as `auth.list_perm_sets` lists them.
public struct PermSet: Sendable, Hashable {
    public let id: PermSetID
    /// Unique in the tenant (or among templates); the key of the list's order.
    public let code: String
    public let name: String
    public let description: String?
    /// Codes in the set (each also grants its descendants).
    public let permissionCount: Int
    /// Assignments of the set, to users and groups.
    public let assignmentCount: Int
    public let createdAt: Date
    public let updatedAt: Date

    init(row: Row) throws {
        id = try row.decode(column: "perm_set_id")
        code = try row.decode(column: "code")
        name = try row.decode(column: "name")
        description = try row.decode(column: "description")
        permissionCount = try row.decode(column: "permission_count")
        assignmentCount = try row.decode(column: "assignment_count")
        createdAt = try row.decode(column: "created_at")
        updatedAt = try row.decode(column: "updated_at")
    }
}
