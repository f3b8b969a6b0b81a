import PQ

extension AuthClient {
    /// Creates a permission set in a tenant, or a template when `tenant` is `nil` (templates
    /// are copied into every tenant created afterwards).
    ///
    /// - Returns: the set's id.
    /// - Throws: `.unknownTenant`, `.invalidCode`, `.permSetCodeTaken`, `.invalidArgument`.
    public func createPermSet(tenant: TenantID?, code: String, name: String, description: String? = nil) async throws -> PermSetID {
        try await value(PermSetID.self, """
            SELECT auth.create_perm_set(_tenant_id := $1, _code := $2, _name := $3, _description := $4)
            """, [tenant, code, name, description])
    }

    /// Adds permission codes to a set; codes already in it are skipped.
    ///
    /// - Throws: `.unknownPermSet`, `.unknownPermission` (nothing is added), `.invalidPermissionCode`.
    public func addPermSetPermissions(tenant: TenantID?, permSet: String, codes: [String]) async throws {
        try await call("""
            SELECT auth.add_perm_set_permissions(_tenant_id := $1, _perm_set_code := $2, _perm_codes := $3)
            """, [tenant, permSet, codes])
    }

    /// Removes permission codes from a set.
    ///
    /// - Throws: `.unknownPermSet`, `.unknownPermission`.
    public func removePermSetPermissions(tenant: TenantID?, permSet: String, codes: [String]) async throws {
        try await call("""
            SELECT auth.remove_perm_set_permissions(_tenant_id := $1, _perm_set_code := $2, _perm_codes := $3)
            """, [tenant, permSet, codes])
    }

    /// Deletes a set with its codes (`auth.delete_perm_set`).
    ///
    /// - Parameters:
    ///   - tenant: the set's tenant, or `nil` for a template (tenants' copies stay).
    ///   - code: the set's code.
    ///   - force: also delete a set that is assigned, with every assignment of it, so its
    ///     grantees lose its rights. Default `false`: an assigned set is refused.
    /// - Throws: `.unknownPermSet`, `.unknownTenant`, `.permSetInUse` (without `force`) when the
    ///   set is assigned; its `detail` names the grantees.
    public func deletePermSet(tenant: TenantID?, code: String, force: Bool = false) async throws {
        try await call("SELECT auth.delete_perm_set(_tenant_id := $1, _perm_set_code := $2, _force := $3)",
                       [tenant, code, force])
    }

    /// Copies a set with its permissions from one tenant (or the templates, `nil`) to another.
    ///
    /// - Returns: the new set's id.
    /// - Throws: `.unknownTenant`, `.unknownPermSet`, `.permSetCodeTaken`.
    public func duplicatePermSet(from source: TenantID?, to target: TenantID?, code: String) async throws -> PermSetID {
        try await value(PermSetID.self, """
            SELECT auth.duplicate_perm_set(_from_tenant_id := $1, _to_tenant_id := $2, _perm_set_code := $3)
            """, [source, target, code])
    }
}
