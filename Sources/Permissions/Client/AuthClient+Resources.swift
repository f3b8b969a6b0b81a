import PQ

extension AuthClient {
    /// Grants a code (and its descendants) on one resource to a member or a group of the tenant
    /// (`auth.grant_resource_permission`). Replaces a deny of the same code to the same grantee
    /// there; granting again changes nothing.
    ///
    /// - Returns: the grant's id.
    /// - Throws: `.invalidResource`, `.invalidArgument`, `.unknownTenant`, `.unknownUser`,
    ///   `.notTenantMember`, `.unknownUserGroup` (another tenant's group too), `.unknownPermission`.
    @discardableResult
    public func grantResourcePermission(tenant: TenantID, on resource: Resource, code: String,
                                        to grantee: Grantee) async throws -> ResourceGrantID {
        try await value(ResourceGrantID.self, """
            SELECT auth.grant_resource_permission(_tenant_id := $1, _resource_type := $2, _resource_id := $3,
                                                  _perm_code := $4, _user_id := $5, _user_group_id := $6)
            """, Self.resourceBinds(tenant, resource, code, grantee))
    }

    /// Denies a code (and its descendants) on one resource to a member or a group
    /// (`auth.deny_resource_permission`): it overrides every grant of the code there, tenant-wide
    /// ones included; the tenant's owner still passes. Replaces a grant of the same code to the
    /// same grantee there.
    ///
    /// - Returns: the deny's id.
    /// - Throws: as ``grantResourcePermission(tenant:on:code:to:)``.
    @discardableResult
    public func denyResourcePermission(tenant: TenantID, on resource: Resource, code: String,
                                       to grantee: Grantee) async throws -> ResourceGrantID {
        try await value(ResourceGrantID.self, """
            SELECT auth.deny_resource_permission(_tenant_id := $1, _resource_type := $2, _resource_id := $3,
                                                 _perm_code := $4, _user_id := $5, _user_group_id := $6)
            """, Self.resourceBinds(tenant, resource, code, grantee))
    }

    /// Removes the grant or the deny of a code on one resource to a member or a group
    /// (`auth.revoke_resource_permission`).
    ///
    /// - Returns: whether there was one.
    /// - Throws: as ``grantResourcePermission(tenant:on:code:to:)``: an unknown grantee, or
    ///   another tenant's, is an error, not a `false`.
    @discardableResult
    public func revokeResourcePermission(tenant: TenantID, on resource: Resource, code: String,
                                         from grantee: Grantee) async throws -> Bool {
        try await value(Bool.self, """
            SELECT auth.revoke_resource_permission(_tenant_id := $1, _resource_type := $2, _resource_id := $3,
                                                   _perm_code := $4, _user_id := $5, _user_group_id := $6)
            """, Self.resourceBinds(tenant, resource, code, grantee))
    }

    /// The grants and denies of one resource (`auth.get_resource_grants`), by code, grants before
    /// denies, then grantee.
    ///
    /// - Throws: `.invalidResource`, `.invalidArgument`, `.unknownTenant`.
    public func resourceGrants(tenant: TenantID, on resource: Resource) async throws -> [ResourceGrant] {
        try await call("""
            SELECT resource_grant_id, user_id, username, user_group_id, user_group_code, perm_code, is_deny, created_at
            FROM auth.get_resource_grants(_tenant_id := $1, _resource_type := $2, _resource_id := $3)
            """, [tenant, resource.type, resource.id]).map(ResourceGrant.init(row:))
    }

    /// Whether the user may use the code on one resource (`auth.has_resource_permission`): granted
    /// there (to them or an active group of theirs) or tenant-wide, and not denied there; the
    /// owner always; nobody without live access.
    ///
    /// - Throws: `.invalidArgument`, `.invalidPermissionCode`, `.unknownPermission`.
    public func hasResourcePermission(tenant: TenantID, user: UserID, on resource: Resource, code: String) async throws -> Bool {
        try await value(Bool.self, """
            SELECT auth.has_resource_permission(_tenant_id := $1, _user_id := $2, _resource_type := $3,
                                                _resource_id := $4, _perm_code := $5)
            """, [tenant, user, resource.type, resource.id, code])
    }

    /// The ids, of those given, of the resources of a type on which the user may use the code
    /// (`auth.filter_resource_ids`), in the order given, each once: for list screens.
    ///
    /// - Throws: `.invalidArgument`, `.invalidPermissionCode`, `.unknownPermission`.
    public func filterResourceIDs(tenant: TenantID, user: UserID, type: String, ids: [String],
                                  code: String) async throws -> [String] {
        try await call("""
            SELECT id FROM auth.filter_resource_ids(_tenant_id := $1, _user_id := $2, _resource_type := $3,
                                                   _resource_ids := $4, _perm_code := $5) AS id
            """, [tenant, user, type, ids, code]).map { try $0.decode(column: "id") }
    }

    private static func resourceBinds(_ tenant: TenantID, _ resource: Resource, _ code: String,
                                      _ grantee: Grantee) -> [any PostgresEncodable] {
        var user: UserID?, group: UserGroupID?
        switch grantee {
        case .user(let id): user = id
        case .group(let id): group = id
        }
        return [tenant, resource.type, resource.id, code, user, group]
    }
}
