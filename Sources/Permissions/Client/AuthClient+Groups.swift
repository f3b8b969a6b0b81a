import PQ

extension AuthClient {
    /// A page of the groups of a tenant, active or not (`auth.list_user_groups`), by code.
    ///
    /// - Parameters:
    ///   - pageSize: 1 to 500. Default 50.
    ///   - after: the `code` of the last group of the previous page; `nil` for the first.
    /// - Throws: `.unknownTenant`, `.invalidPage`.
    public func listUserGroups(tenant: TenantID, pageSize: Int = 50, after: String? = nil) async throws -> [UserGroup] {
        try await call("""
            SELECT user_group_id, code, name, is_active, member_count, created_at, updated_at
            FROM auth.list_user_groups(_tenant_id := $1, _page_size := $2, _after := $3)
            """, [tenant, pageSize, after]).map(UserGroup.init(row:))
    }

    /// One group of a tenant (`auth.get_user_group`), as ``listUserGroups(tenant:pageSize:after:)`` lists it.
    ///
    /// - Throws: `.unknownTenant`, `.unknownUserGroup` (another tenant's group too).
    public func userGroup(tenant: TenantID, group: UserGroupID) async throws -> UserGroup {
        try UserGroup(row: try await call("""
            SELECT user_group_id, code, name, is_active, member_count, created_at, updated_at
            FROM auth.get_user_group(_tenant_id := $1, _user_group_id := $2)
            """, [tenant, group]).single())
    }

    /// Renames a group: its code, its name or both (`auth.update_user_group`); `nil` keeps a value.
    ///
    /// - Throws: `.unknownTenant`, `.unknownUserGroup`, `.invalidCode`, `.invalidArgument` for a
    ///   blank name, `.userGroupCodeTaken`.
    public func updateUserGroup(tenant: TenantID, group: UserGroupID, code: String? = nil, name: String? = nil) async throws {
        try await call("SELECT auth.update_user_group(_tenant_id := $1, _user_group_id := $2, _code := $3, _name := $4)",
                       [tenant, group, code, name])
    }

    /// A page of the members of a group (`auth.list_group_members`), by username ignoring case.
    ///
    /// - Parameters:
    ///   - pageSize: 1 to 500. Default 50.
    ///   - after: the `username` of the last member of the previous page; `nil` for the first.
    /// - Throws: `.unknownTenant`, `.unknownUserGroup` (another tenant's group too), `.invalidPage`.
    public func listGroupMembers(tenant: TenantID, group: UserGroupID, pageSize: Int = 50,
                                 after: String? = nil) async throws -> [GroupMember] {
        try await call("""
            SELECT user_id, username, email, display_name, is_active, added_at
            FROM auth.list_group_members(_tenant_id := $1, _user_group_id := $2, _page_size := $3, _after := $4)
            """, [tenant, group, pageSize, after]).map(GroupMember.init(row:))
    }

    /// A page of the owners of a group (`auth.list_group_owners`), by username ignoring case;
    /// `addedAt` is when each became an owner.
    ///
    /// - Parameters:
    ///   - pageSize: 1 to 500. Default 50.
    ///   - after: the `username` of the last owner of the previous page; `nil` for the first.
    /// - Throws: `.unknownTenant`, `.unknownUserGroup` (another tenant's group too), `.invalidPage`.
    public func listGroupOwners(tenant: TenantID, group: UserGroupID, pageSize: Int = 50,
                                after: String? = nil) async throws -> [GroupMember] {
        try await call("""
            SELECT user_id, username, email, display_name, is_active, added_at
            FROM auth.list_group_owners(_tenant_id := $1, _user_group_id := $2, _page_size := $3, _after := $4)
            """, [tenant, group, pageSize, after]).map(GroupMember.init(row:))
    }

    /// Creates a group of users in a tenant.
    ///
    /// - Returns: the group's id.
    /// - Throws: `.unknownTenant`, `.invalidCode`, `.userGroupCodeTaken`, `.invalidArgument`.
    public func createUserGroup(tenant: TenantID, code: String, name: String) async throws -> UserGroupID {
        try await value(UserGroupID.self, "SELECT auth.create_user_group(_tenant_id := $1, _code := $2, _name := $3)",
                        [tenant, code, name])
    }

    /// Adds a tenant member to a group.
    ///
    /// - Throws: `.unknownUserGroup`, `.notTenantMember`, `.alreadyGroupMember`.
    public func addUserToGroup(tenant: TenantID, group: UserGroupID, user: UserID) async throws {
        try await call("SELECT auth.add_user_to_group(_tenant_id := $1, _user_group_id := $2, _user_id := $3)",
                       [tenant, group, user])
    }

    /// Removes a user from a group.
    ///
    /// - Throws: `.unknownUserGroup`, `.notGroupMember`.
    public func removeUserFromGroup(tenant: TenantID, group: UserGroupID, user: UserID) async throws {
        try await call("SELECT auth.remove_user_from_group(_tenant_id := $1, _user_group_id := $2, _user_id := $3)",
                       [tenant, group, user])
    }

    /// Deactivates a group: what it grants stops counting until it is reactivated.
    ///
    /// - Throws: `.unknownUserGroup`.
    public func deactivateUserGroup(tenant: TenantID, group: UserGroupID) async throws {
        try await call("SELECT auth.deactivate_user_group(_tenant_id := $1, _user_group_id := $2)", [tenant, group])
    }

    /// Reactivates a group.
    ///
    /// - Throws: `.unknownUserGroup`.
    public func activateUserGroup(tenant: TenantID, group: UserGroupID) async throws {
        try await call("SELECT auth.activate_user_group(_tenant_id := $1, _user_group_id := $2)", [tenant, group])
    }

    /// Deletes a group with its memberships, assignments and owners.
    ///
    /// - Throws: `.unknownUserGroup`.
    public func deleteUserGroup(tenant: TenantID, group: UserGroupID) async throws {
        try await call("SELECT auth.delete_user_group(_tenant_id := $1, _user_group_id := $2)", [tenant, group])
    }

    /// Makes a tenant member an owner of a group. Owning a group grants no permission;
    /// assigning a current owner changes nothing.
    ///
    /// - Throws: `.unknownUserGroup`, `.notTenantMember`.
    public func assignGroupOwner(tenant: TenantID, group: UserGroupID, user: UserID) async throws {
        try await call("SELECT auth.assign_group_owner(_tenant_id := $1, _user_group_id := $2, _user_id := $3)",
                       [tenant, group, user])
    }

    /// Removes a group owner; nothing happens when the user does not own the group.
    ///
    /// - Throws: `.unknownUserGroup`.
    public func removeGroupOwner(tenant: TenantID, group: UserGroupID, user: UserID) async throws {
        try await call("SELECT auth.remove_group_owner(_tenant_id := $1, _user_group_id := $2, _user_id := $3)",
                       [tenant, group, user])
    }

    /// Whether the user owns the group.
    ///
    /// - Throws: `.unknownUserGroup`.
    public func isGroupOwner(tenant: TenantID, group: UserGroupID, user: UserID) async throws -> Bool {
        try await value(Bool.self, "SELECT auth.is_group_owner(_tenant_id := $1, _user_group_id := $2, _user_id := $3)",
                        [tenant, group, user])
    }
}
