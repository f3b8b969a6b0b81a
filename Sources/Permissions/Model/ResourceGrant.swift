import Foundation
import PQ

/// One resource of a tenant's application: its kind (`document`) and its id there, as text.
public struct Resource: Sendable, Hashable {
    /// A lower-case letter, then lower-case letters, digits or `_` (at most 63).
    public let type: String
    /// 1 to 255 characters: a uuid, a number, a key.
    public let id: String

    public init(type: String, id: String) {
        self.type = type
        self.id = id
    }
}

/// A code granted or denied on one resource, as `auth.get_resource_grants` lists them.
public struct ResourceGrant: Sendable, Hashable {
    public let id: ResourceGrantID
    public let grantee: Grantee
    /// The user's username or the group's code.
    public let granteeName: String
    public let code: String
    /// A deny overrides every grant of the code on the resource, tenant-wide ones included.
    public let isDeny: Bool
    public let createdAt: Date

    init(row: Row) throws {
        id = try row.decode(column: "resource_grant_id")
        if let user: UserID = try row.decode(column: "user_id") {
            grantee = .user(user)
            granteeName = try row.decode(column: "username")
        } else {
            grantee = .group(try row.decode(column: "user_group_id"))
            granteeName = try row.decode(column: "user_group_code")
        }
        code = try row.decode(column: "perm_code")
        isDeny = try row.decode(column: "is_deny")
        createdAt = try row.decode(column: "created_at")
    }
}
