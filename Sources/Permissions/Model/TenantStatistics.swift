import PQ

/// What `auth.get_tenant_statistics` counts for a tenant.
public struct TenantStatistics: Sendable, Hashable {
    public let tenantName: String
    /// Active memberships.
    public let userCount: Int
    public let groupCount: Int
    public let permissionSetCount: Int
    public let assignmentCount: Int

    init(row: Row) throws {
        tenantName = try row.decode(column: "tenant_name")
        userCount = try row.decode(column: "user_count")
        groupCount = try row.decode(column: "group_count")
        permissionSetCount = try row.decode(column: "permission_set_count")
        assignmentCount = try row.decode(column: "assignment_count")
    }
}
