import PQ

extension AuthClient {
    /// Whether the user holds `code` in the tenant: directly or through an active group, by the
    /// code itself or an ancestor (`users` grants `users.create_user`), or as the tenant's
    /// owner; and tenant, user and membership are all active. Never writes.
    ///
    /// - Throws: `.unknownPermission` for a code not in the catalogue (a typo fails loudly),
    ///   `.invalidPermissionCode` for a malformed one.
    public func hasPermission(tenant: TenantID, user: UserID, code: String) async throws -> Bool {
        try await value(Bool.self, "SELECT auth.has_permission(_tenant_id := $1, _user_id := $2, _perm_code := $3)",
                        [tenant, user, code])
    }

    /// Whether the user holds any (or, with `requireAll`, every) code of `codes`.
    ///
    /// - Throws: `.unknownPermission`, `.invalidArgument` for an empty list.
    public func hasPermissions(tenant: TenantID, user: UserID, codes: [String], requireAll: Bool = false) async throws -> Bool {
        try await value(Bool.self, """
            SELECT auth.has_permissions(_tenant_id := $1, _user_id := $2, _perm_codes := $3, _require_all := $4)
            """, [tenant, user, codes, requireAll])
    }

    /// Returns when the user holds `code`; otherwise throws.
    ///
    /// - Throws: ``PermissionsError`` `.insufficientPrivilege` (SQLSTATE 42501) whose detail names
    ///   user, tenant and code; `.unknownPermission`.
    public func requirePermission(tenant: TenantID, user: UserID, code: String) async throws {
        try await call("SELECT auth.require_permission(_tenant_id := $1, _user_id := $2, _perm_code := $3)",
                       [tenant, user, code])
    }

    /// Every catalogue code the user effectively holds in the tenant, descendants included, sorted.
    public func userPermissions(tenant: TenantID, user: UserID) async throws -> [String] {
        try await call("SELECT perm_code FROM auth.get_user_permissions(_tenant_id := $1, _user_id := $2)",
                       [tenant, user]).map { try $0.decode(String.self, at: 0) }
    }

    /// Why the user holds `code` in the tenant, or why not (`auth.explain_permission`): the
    /// paths that grant it, or the reasons none does. See ``PermissionExplanation``.
    ///
    /// - Throws: the errors of ``hasPermission(tenant:user:code:)`` for the code
    ///   (`.unknownPermission`, `.invalidPermissionCode`); `.unknownTenant`, `.unknownUser`.
    public func explainPermission(tenant: TenantID, user: UserID, code: String) async throws -> [PermissionExplanation] {
        try await call("""
            SELECT granted, path, reason, user_group_id, user_group_code, perm_set_id, perm_set_code, granted_code,
                   assignment_id
            FROM auth.explain_permission(_tenant_id := $1, _user_id := $2, _perm_code := $3)
            """, [tenant, user, code]).map(PermissionExplanation.init(row:))
    }

    /// Whether the user may enter the tenant: tenant, user and membership all active.
    public func checkTenantAccess(tenant: TenantID, user: UserID) async throws -> Bool {
        try await value(Bool.self, "SELECT auth.check_tenant_access(_tenant_id := $1, _user_id := $2)", [tenant, user])
    }
}
