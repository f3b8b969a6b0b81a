import Foundation
import PQ

extension AuthClient {
    /// Records the application user acting in the current transaction (`auth.set_actor`);
    /// audit rows written afterwards in the same transaction name them.
    ///
    /// Call it on the connection of a transaction (`withTransaction`). Outside one the actor
    /// would last for this call only and the next statement would be recorded without it, so
    /// this throws instead, before anything is sent: on a ``ConnectionPool`` (every call
    /// leases a connection of its own) and on a ``Connection`` that libpq reports idle, not in
    /// a transaction block.
    ///
    /// - Throws: `.outsideTransaction`.
    public func setActor(_ user: UserID) async throws {
        if let reason = Self.noTransaction(executor) {
            throw PermissionsError(client: .outsideTransaction, "setActor outside a transaction block", detail: reason,
                                   hint: "Call it inside withTransaction, on the transaction's connection.")
        }
        try await call("SELECT auth.set_actor(_user_id := $1)", [user])
    }

    /// Why a setting that lasts for the transaction would be lost on this executor, or nil.
    static func noTransaction(_ executor: any QueryExecutor) -> String? {
        if executor is ConnectionPool {
            return "AuthClient runs on a pool: each call leases a connection and runs in a transaction of its own."
        }
        if let connection = executor as? Connection, connection.transactionState == .idle {
            return "The connection is not in a transaction block: the call would run in a transaction of its own."
        }
        return nil
    }

    /// The actor set for the current transaction, if any.
    public func currentActor() async throws -> UserID? {
        try await value(UserID?.self, "SELECT auth.current_actor()", [])
    }

    /// A tenant's audit log, newest first (`auth.get_audit_log`).
    ///
    /// - Parameters:
    ///   - tenant: the tenant (deleted ones too), or `nil` for the entries that have no tenant:
    ///     users, passwords, the catalogue and template sets.
    ///   - since: inclusive lower bound. Default none.
    ///   - until: exclusive upper bound. Default none.
    ///   - limit: at most this many entries; `nil` for all. Default 100.
    /// - Throws: `.invalidArgument` for a limit below 1.
    public func auditLog(tenant: TenantID?, since: Date? = nil, until: Date? = nil, limit: Int? = 100) async throws -> [AuditEntry] {
        try await call("""
            SELECT audit_id, occurred_at, tenant_id, actor_user_id, db_role, action, details
            FROM auth.get_audit_log(_tenant_id := $1, _since := $2, _until := $3, _limit := $4)
            """, [tenant, since, until, limit]).map(AuditEntry.init(row:))
    }

    /// A page of a tenant's audit log, newest first (`auth.list_audit_log`).
    ///
    /// - Parameters:
    ///   - includeGlobal: add the entries without a tenant (users, passwords, the catalogue,
    ///     templates): in a database that holds one tenant they are its own. Default `false`.
    ///   - action: one action (`user_info.update`), or every action on a table (`user_info`).
    ///   - actor: what this user did (``setActor(_:)``).
    ///   - pageSize: 1 to 500. Default 50.
    ///   - before: the `id` of the last entry of the previous page; `nil` for the first.
    /// - Throws: `.invalidArgument` for a blank action, `.invalidPage`.
    public func listAuditLog(tenant: TenantID, includeGlobal: Bool = false, action: String? = nil, actor: UserID? = nil,
                             pageSize: Int = 50, before: Int64? = nil) async throws -> [AuditEntry] {
        try await call("""
            SELECT audit_id, occurred_at, tenant_id, actor_user_id, db_role, action, details
            FROM auth.list_audit_log(_tenant_id := $1, _include_global := $2, _action := $3, _actor_user_id := $4,
                                     _page_size := $5, _before := $6)
            """, [tenant, includeGlobal, action, actor, pageSize, before]).map(AuditEntry.init(row:))
    }
}
