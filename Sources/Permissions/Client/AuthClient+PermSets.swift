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

    /// A page of the permission sets of a tenant, or of the templates (`nil`), by code
    /// (`auth.list_perm_sets`).
    ///
    /// - Parameters:
    ///   - pageSize: 1 to 500. Default 50.
    ///   - after: the `code` of the last set of the previous page; `nil` for the first.
    /// - Throws: `.unknownTenant`, `.invalidPage`.
    public func listPermSets(tenant: TenantID?, pageSize: Int = 50, after: String? = nil) async throws -> [PermSet] {
        try await call("""
            SELECT perm_set_id, code, name, description, permission_count, assignment_count, created_at, updated_at
            FROM auth.list_perm_sets(_tenant_id := $1, _page_size := $2, _after := $3)
            """, [tenant, pageSize, after]).map(PermSet.init(row:))
    }

    /// One permission set of a tenant, or a template (`nil`) (`auth.get_perm_set`), as
    /// ``listPermSets(tenant:pageSize:after:)`` lists it.
    ///
    /// - Throws: `.unknownTenant`, `.unknownPermSet` (another tenant's set too), `.invalidArgument`.
    public func permSet(tenant: TenantID?, code: String) async throws -> PermSet {
        try PermSet(row: try await call("""
            SELECT perm_set_id, code, name, description, permission_count, assignment_count, created_at, updated_at
            FROM auth.get_perm_set(_tenant_id := $1, _perm_set_code := $2)
            """, [tenant, code]).single())
    }

    /// Changes a set's name or description (`auth.update_perm_set`); `nil` keeps a value, an empty
    /// description clears it. The code never changes: applications and assignments name the set by it.
    ///
    /// - Throws: `.unknownTenant`, `.unknownPermSet`, `.invalidArgument` for a blank name.
    public func updatePermSet(tenant: TenantID?, code: String, name: String? = nil, description: String? = nil) async throws {
        try await call("""
            SELECT auth.update_perm_set(_tenant_id := $1, _perm_set_code := $2, _name := $3, _description := $4)
            """, [tenant, code, name, description])
    }

    /// A page of the codes in a set, by code (`auth.list_perm_set_permissions`). Each also grants
    /// its descendants, which are not listed.
    ///
    /// - Parameters:
    ///   - tenant: the set's tenant, or `nil` for a template.
    ///   - pageSize: 1 to 500. Default 50.
    ///   - after: the `code` of the last entry of the previous page; `nil` for the first.
    /// - Throws: `.unknownPermSet` (another tenant's set too), `.unknownTenant`, `.invalidPage`.
    public func listPermSetPermissions(tenant: TenantID?, permSet: String, pageSize: Int = 50,
                                       after: String? = nil) async throws -> [CatalogueEntry] {
        try await call("""
            SELECT perm_code, name, description
            FROM auth.list_perm_set_permissions(_tenant_id := $1, _perm_set_code := $2, _page_size := $3, _after := $4)
            """, [tenant, permSet, pageSize, after]).map(CatalogueEntry.init(row:))
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
