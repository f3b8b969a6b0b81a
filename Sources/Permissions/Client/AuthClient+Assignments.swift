import PQ

/// Who receives an assignment: one user, or every member of a group.
public enum Grantee: Sendable, Hashable {
    case user(UserID)
    case group(UserGroupID)
}

/// What an assignment grants: a permission set of the tenant (by code) or one catalogue code.
public enum Grant: Sendable, Hashable {
    case permSet(String)
    case permission(String)
}

extension AuthClient {
    /// Grants a set or a single permission to a user or a group in a tenant.
    ///
    /// The types make the schema's `.invalidAssignment` (both or neither of user/group)
    /// impossible from Swift.
    /// - Returns: the assignment's id.
    /// - Throws: `.notTenantMember`, `.unknownUserGroup`, `.unknownPermSet`, `.unknownPermission`,
    ///   `.alreadyAssigned`.
    @discardableResult
    public func assignPermission(tenant: TenantID, to grantee: Grantee, grant: Grant) async throws -> AssignmentID {
        try await value(AssignmentID.self, """
            SELECT auth.assign_permission(_tenant_id := $1, _user_id := $2, _user_group_id := $3,
                                          _perm_set_code := $4, _perm_code := $5)
            """, Self.assignmentBinds(tenant, grantee, grant))
    }

    /// Removes an assignment made by ``assignPermission(tenant:to:grant:)``.
    ///
    /// - Throws: `.unknownAssignment` when there is no such assignment.
    public func unassignPermission(tenant: TenantID, from grantee: Grantee, grant: Grant) async throws {
        try await call("""
            SELECT auth.unassign_permission(_tenant_id := $1, _user_id := $2, _user_group_id := $3,
                                            _perm_set_code := $4, _perm_code := $5)
            """, Self.assignmentBinds(tenant, grantee, grant))
    }

    /// A page of the assignments of a tenant, oldest first (`auth.list_permission_assignments`).
    ///
    /// - Parameters:
    ///   - user: only the user's own assignments (not those of the user's groups). Default all.
    ///   - group: only the group's. Default all.
    ///   - permSet: only those of the set with this code. Default all. Filters combine.
    ///   - pageSize: 1 to 500. Default 50.
    ///   - after: the ``Assignment/cursor`` of the last assignment of the previous page; `nil`
    ///     for the first.
    /// - Throws: `.unknownTenant`, `.unknownUser`, `.notTenantMember`, `.unknownUserGroup`,
    ///   `.unknownPermSet` (a filter naming nothing of this tenant), `.invalidPage`.
    public func listAssignments(tenant: TenantID, user: UserID? = nil, group: UserGroupID? = nil, permSet: String? = nil,
                                pageSize: Int = 50, after: CreationCursor<AssignmentID>? = nil) async throws -> [Assignment] {
        try await call("""
            SELECT assignment_id, user_id, username, user_group_id, user_group_code, perm_set_id, perm_set_code,
                   perm_code, created_at
            FROM auth.list_permission_assignments(_tenant_id := $1, _user_id := $2, _user_group_id := $3,
                                                  _perm_set_code := $4, _page_size := $5,
                                                  _after_created_at := $6, _after_assignment_id := $7)
            """, [tenant, user, group, permSet, pageSize, after?.createdAt, after?.id]).map(Assignment.init(row:))
    }

    private static func assignmentBinds(_ tenant: TenantID, _ grantee: Grantee, _ grant: Grant) -> [any PostgresEncodable] {
        var user: UserID?, group: UserGroupID?, permSet: String?, permission: String?
        switch grantee {
        case .user(let id): user = id
        case .group(let id): group = id
        }
        switch grant {
        case .permSet(let code): permSet = code
        case .permission(let code): permission = code
        }
        return [tenant, user, group, permSet, permission]
    }
}
