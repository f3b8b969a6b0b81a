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
