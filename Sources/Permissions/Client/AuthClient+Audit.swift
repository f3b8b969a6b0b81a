import Foundation
import PQ

extension AuthClient {
    /// Records the application user acting in the current transaction; audit rows written
    /// afterwards in the same transaction name them. Call it inside a transaction: outside
    /// one it lasts for this statement only.
    public func setActor(_ user: UserID) async throws {
        try await call("SELECT auth.set_actor(_user_id := $1)", [user])
    }

    /// The actor set for the current transaction, if any.
    public func currentActor() async throws -> UserID? {
        try await value(UserID?.self, "SELECT auth.current_actor()", [])
    }

    /// A tenant's audit log, newest first.
    ///
    /// - Parameters:
    ///   - since: inclusive lower bound. Default none.
    ///   - until: exclusive upper bound. Default none.
    ///   - limit: at most this many entries; `nil` for all. Default 100.
    /// - Throws: `.invalidArgument` for a limit below 1.
    public func auditLog(tenant: TenantID, since: Date? = nil, until: Date? = nil, limit: Int? = 100) async throws -> [AuditEntry] {
        try await call("""
            SELECT audit_id, occurred_at, tenant_id, actor_user_id, db_role, action, details
            FROM auth.get_audit_log(_tenant_id := $1, _since := $2, _until := $3, _limit := $4)
            """, [tenant, since, until, limit]).map(AuditEntry.init(row:))
    }
}
