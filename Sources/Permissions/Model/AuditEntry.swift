import Foundation
import PQ

/// One row of `auth.audit_log`: a change to tenants, users, memberships, ownership,
/// the catalogue, sets, groups or assignments, by function or by direct SQL.
public struct AuditEntry: Sendable, Hashable {
    public let id: Int64
    public let occurredAt: Date
    public let tenantID: TenantID?
    /// The application user set with ``AuthClient/setActor(_:)``, if any.
    public let actor: UserID?
    /// The database role of the session that made the change.
    public let databaseRole: String
    /// `<table>.<insert|update|delete>`, e.g. `tenant_user.update`.
    public let action: String
    /// JSON: the row (`new` / `old`) as it was written.
    public let details: String

    init(row: Row) throws {
        id = try row.decode(column: "audit_id")
        occurredAt = try row.decode(column: "occurred_at")
        tenantID = try row.decode(column: "tenant_id")
        actor = try row.decode(column: "actor_user_id")
        databaseRole = try row.decode(column: "db_role")
        action = try row.decode(column: "action")
        details = try row.decode(column: "details")
    }
}
