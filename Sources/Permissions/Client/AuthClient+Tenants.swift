import Foundation
import PQ

extension AuthClient {
    /// Creates a tenant (`auth.create_tenant`); it receives a copy of every template
    /// permission set.
    ///
    /// - Parameters:
    ///   - name: display name.
    ///   - code: unique code: letters, digits, `_` and `-`, starting with a letter or digit.
    ///   - owner: added as a member and recorded as the tenant's owner. Default none.
    /// - Returns: the new tenant's id.
    /// - Throws: `.invalidArgument`, `.invalidCode`, `.tenantCodeTaken`, `.unknownUser`.
    public func createTenant(name: String, code: String, owner: UserID? = nil) async throws -> TenantID {
        try await value(TenantID.self, "SELECT auth.create_tenant(_name := $1, _code := $2, _owner_user_id := $3)",
                        [name, code, owner])
    }

    /// Renames a tenant or changes its code (`auth.update_tenant`); `nil` leaves a field unchanged.
    ///
    /// - Throws: `.unknownTenant`, `.invalidCode`, `.tenantCodeTaken`.
    public func updateTenant(_ tenant: TenantID, name: String? = nil, code: String? = nil) async throws {
        try await call("SELECT auth.update_tenant(_tenant_id := $1, _name := $2, _code := $3)", [tenant, name, code])
    }

    /// Deactivates a tenant: every check in it is denied until it is reactivated.
    ///
    /// - Throws: `.unknownTenant`.
    public func deactivateTenant(_ tenant: TenantID) async throws {
        try await call("SELECT auth.deactivate_tenant(_tenant_id := $1)", [tenant])
    }

    /// Reactivates a tenant (`auth.activate_tenant`).
    ///
    /// - Throws: `.unknownTenant`.
    public func activateTenant(_ tenant: TenantID) async throws {
        try await call("SELECT auth.activate_tenant(_tenant_id := $1)", [tenant])
    }

    /// Deletes a tenant at once and for good, with its memberships, groups, sets, assignments
    /// and preferences (``softDeleteTenant(_:)`` keeps them for a restore). Its audit history stays.
    ///
    /// - Throws: `.unknownTenant`.
    public func deleteTenant(_ tenant: TenantID) async throws {
        try await call("SELECT auth.delete_tenant(_tenant_id := $1)", [tenant])
    }

    /// Deletes a tenant softly (`auth.soft_delete_tenant`): it grants nothing at once and the
    /// functions treat it as unknown, until ``restoreTenant(_:)``; ``purgeDeletedTenants(deletedBefore:)``
    /// removes it for good.
    ///
    /// - Throws: `.unknownTenant` (deleted already too).
    public func softDeleteTenant(_ tenant: TenantID) async throws {
        try await call("SELECT auth.soft_delete_tenant(_tenant_id := $1)", [tenant])
    }

    /// Brings back a softly deleted tenant with everything it had (`auth.restore_tenant`);
    /// restoring one that is not deleted changes nothing.
    ///
    /// - Throws: `.unknownTenant` for a tenant that never existed or was purged.
    public func restoreTenant(_ tenant: TenantID) async throws {
        try await call("SELECT auth.restore_tenant(_tenant_id := $1)", [tenant])
    }

    /// Removes for good the tenants softly deleted at or before `deletedBefore`
    /// (`auth.purge_deleted_tenants`).
    ///
    /// - Returns: how many were purged.
    @discardableResult
    public func purgeDeletedTenants(deletedBefore: Date = Date()) async throws -> Int {
        try await value(Int.self, "SELECT auth.purge_deleted_tenants(_deleted_before := $1)", [deletedBefore])
    }

    /// Adds a user to a tenant, or reactivates their inactive membership.
    ///
    /// - Throws: `.unknownTenant`, `.unknownUser`, `.alreadyTenantMember`.
    public func addUserToTenant(_ tenant: TenantID, user: UserID) async throws {
        try await call("SELECT auth.add_user_to_tenant(_tenant_id := $1, _user_id := $2)", [tenant, user])
    }

    /// Removes a user from a tenant.
    ///
    /// - Parameter hard: `false` (default) deactivates the membership; `true` deletes it with
    ///   the user's group memberships, direct assignments and preferences in the tenant.
    /// - Throws: `.notTenantMember`, `.userIsTenantOwner` (transfer ownership first).
    public func removeUserFromTenant(_ tenant: TenantID, user: UserID, hard: Bool = false) async throws {
        try await call("SELECT auth.remove_user_from_tenant(_tenant_id := $1, _user_id := $2, _hard := $3)",
                       [tenant, user, hard])
    }

    /// The tenant with a code (`auth.get_tenant_by_code`), active or not. Codes are
    /// case-sensitive. An application role may call it.
    ///
    /// - Throws: `.unknownTenant` when no tenant has the code, `.invalidCode`, `.invalidArgument`.
    public func tenant(code: String) async throws -> Tenant {
        let rows = try await call("SELECT tenant_id, name, code, is_active FROM auth.get_tenant_by_code(_code := $1)", [code])
        return try Tenant(row: try rows.single())
    }

    /// The members of a tenant, ordered by display name.
    ///
    /// - Parameter includeInactive: also list deactivated memberships and users. Default `false`.
    /// - Throws: `.unknownTenant`.
    public func tenantUsers(_ tenant: TenantID, includeInactive: Bool = false) async throws -> [TenantUser] {
        try await call("""
            SELECT user_id, username, email, display_name, is_active, joined_at
            FROM auth.get_tenant_users(_tenant_id := $1, _include_inactive := $2)
            """, [tenant, includeInactive]).map(TenantUser.init(row:))
    }

    /// A page of the members of a tenant (`auth.list_tenant_users`), by username ignoring case.
    ///
    /// - Parameters:
    ///   - search: keeps members whose username, email or display name contains it, ignoring
    ///     case. Default `nil`: all.
    ///   - isActive: `true` keeps live members (membership and user active), `false` the others.
    ///     Default `nil`: all.
    ///   - pageSize: 1 to 500. Default 50.
    ///   - after: the `username` of the last member of the previous page; `nil` for the first.
    /// - Throws: `.unknownTenant`, `.invalidArgument` for a blank search, `.invalidPage`.
    public func listTenantUsers(_ tenant: TenantID, search: String? = nil, isActive: Bool? = nil,
                                pageSize: Int = 50, after: String? = nil) async throws -> [TenantUser] {
        try await call("""
            SELECT user_id, username, email, display_name, is_active, joined_at
            FROM auth.list_tenant_users(_tenant_id := $1, _search := $2, _is_active := $3, _page_size := $4, _after := $5)
            """, [tenant, search, isActive, pageSize, after]).map(TenantUser.init(row:))
    }

    /// One member of a tenant (`auth.get_tenant_user`), as ``listTenantUsers(_:search:isActive:pageSize:after:)``
    /// lists it.
    ///
    /// - Throws: `.unknownTenant`, `.unknownUser`, `.notTenantMember` for a user who is not a member
    ///   (active or not) of this tenant.
    public func tenantUser(_ tenant: TenantID, user: UserID) async throws -> TenantUser {
        try TenantUser(row: try await call("""
            SELECT user_id, username, email, display_name, is_active, joined_at
            FROM auth.get_tenant_user(_tenant_id := $1, _user_id := $2)
            """, [tenant, user]).single())
    }

    /// Makes a user an owner of the tenant (adding or reactivating the membership). An owner
    /// passes every check in the tenant while tenant, user and membership are active. A tenant
    /// may have several owners; assigning a current owner changes nothing.
    ///
    /// - Throws: `.unknownTenant`, `.unknownUser`.
    public func assignTenantOwner(_ tenant: TenantID, user: UserID) async throws {
        try await call("SELECT auth.assign_tenant_owner(_tenant_id := $1, _user_id := $2)", [tenant, user])
    }

    /// Replaces every owner of the tenant by `newOwner`.
    ///
    /// - Throws: `.unknownTenant`, `.unknownUser`.
    public func transferTenantOwnership(_ tenant: TenantID, to newOwner: UserID) async throws {
        try await call("SELECT auth.transfer_tenant_ownership(_tenant_id := $1, _new_owner_user_id := $2)",
                       [tenant, newOwner])
    }

    /// Counts of a tenant's active users, groups, permission sets and assignments.
    ///
    /// - Throws: `.unknownTenant`.
    public func tenantStatistics(_ tenant: TenantID) async throws -> TenantStatistics {
        let rows = try await call("""
            SELECT tenant_name, user_count, group_count, permission_set_count, assignment_count
            FROM auth.get_tenant_statistics(_tenant_id := $1)
            """, [tenant])
        return try TenantStatistics(row: try rows.single())
    }
}
