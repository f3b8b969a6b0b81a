import PQ

/// A tenant as `auth.get_tenant_by_code` returns it.
public struct Tenant: Sendable, Hashable {
    public let id: TenantID
    public let name: String
    /// Unique, case-sensitive.
    public let code: String
    /// An inactive tenant denies every check in it.
    public let isActive: Bool

    init(row: Row) throws {
        id = try row.decode(column: "tenant_id")
        name = try row.decode(column: "name")
        code = try row.decode(column: "code")
        isActive = try row.decode(column: "is_active")
    }
}
