import PQ

/// One row of `auth.explain_permission`: a path that grants a code, or a reason it is denied.
///
/// When the user holds the code, every row is a granting path (`granted` true, `reason` nil).
/// Otherwise every row has `granted` false and a `reason`: one row for each fault of the
/// membership (`path` nil), one for every path with what stops it, and `.noGrant` (`path` nil)
/// when nothing would grant the code.
public struct PermissionExplanation: Sendable, Hashable {
    /// How a code reaches a user.
    public enum Path: String, Sendable, Hashable, PostgresDecodable {
        /// The user owns the tenant.
        case owner
        /// A set assigned to the user holds the code or an ancestor.
        case directSet = "direct_set"
        /// The code or an ancestor is assigned to the user.
        case directCode = "direct_code"
        /// A set assigned to a group of the user holds the code or an ancestor.
        case groupSet = "group_set"
        /// The code or an ancestor is assigned to a group of the user.
        case groupCode = "group_code"
    }

    /// Why a path, or every path, does not grant.
    public enum Reason: String, Sendable, Hashable, PostgresDecodable {
        case tenantInactive = "tenant_inactive"
        case userInactive = "user_inactive"
        case notMember = "not_member"
        case membershipInactive = "membership_inactive"
        case groupInactive = "group_inactive"
        /// No owner, assignment or group gives the code at all.
        case noGrant = "no_grant"
    }

    public let granted: Bool
    public let path: Path?
    public let reason: Reason?
    public let groupID: UserGroupID?
    public let groupCode: String?
    public let permSetID: PermSetID?
    public let permSetCode: String?
    /// The code held: the code asked about or one of its ancestors.
    public let grantedCode: String?
    public let assignmentID: AssignmentID?

    init(row: Row) throws {
        granted = try row.decode(column: "granted")
        path = try row.decode(column: "path")
        reason = try row.decode(column: "reason")
        groupID = try row.decode(column: "user_group_id")
        groupCode = try row.decode(column: "user_group_code")
        permSetID = try row.decode(column: "perm_set_id")
        permSetCode = try row.decode(column: "perm_set_code")
        grantedCode = try row.decode(column: "granted_code")
        assignmentID = try row.decode(column: "assignment_id")
    }
}
