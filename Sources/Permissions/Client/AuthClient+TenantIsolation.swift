import PQ

extension AuthClient {
    /// Sets the tenant and the acting user for the rest of the current transaction: tables
    /// under ``enableTenantIsolation(table:tenantColumn:)`` then show and accept only this
    /// tenant's rows, and audit rows name the user. Call it inside a transaction (on an
    /// `AuthClient` made from the transaction's connection).
    ///
    /// - Throws: `.insufficientPrivilege` unless the user has a live membership of the tenant.
    public func setTenantContext(tenant: TenantID, user: UserID) async throws {
        try await call("SELECT auth.set_tenant_context(_tenant_id := $1, _user_id := $2)", [tenant, user])
    }

    /// The tenant set by ``setTenantContext(tenant:user:)`` in the current transaction, if any.
    public func currentTenant() async throws -> TenantID? {
        try await value(TenantID?.self, "SELECT auth.current_tenant_id()", [])
    }

    /// Puts an application table under row-level tenant isolation: a policy that shows and
    /// accepts only rows whose `tenantColumn` is the current tenant (none without a context).
    /// The database role must own the table. Safe to call again.
    ///
    /// - Parameter table: the table's name as SQL would write it, e.g. `app.invoice` or `"Orders"`.
    /// - Throws: `.invalidTenantColumn` when the column is missing or not `uuid`.
    public func enableTenantIsolation(table: String, tenantColumn: String = "tenant_id") async throws {
        try await call("SELECT auth.enable_tenant_isolation(_table := $1::regclass, _tenant_column := $2)",
                       [table, tenantColumn])
    }
}
