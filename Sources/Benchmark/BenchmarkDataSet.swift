import PQ

/// Loads the benchmark data set through the documented bulk path: set-based INSERTs into
/// the `auth` tables, each one statement, so the statement-level triggers maintain the
/// effective-access cache and the audit log exactly as for any other write.
struct BenchmarkDataSet {
    let scale: BenchmarkScale
    let connection: Connection
    let progress: @Sendable (String) -> Void

    /// Tenants loaded per round of statements (a round refreshes its members' access).
    private var tenantsPerChunk: Int { max(1, 50_000 / max(1, scale.usersPerTenant)) }

    func load() async throws {
        try await step("catalogue (1,110 codes)") {
            try await connection.query("""
                INSERT INTO auth.permission (code, name)
                SELECT codes.code::ltree, codes.code FROM (
                    SELECT 'm' || m AS code, 1 AS depth FROM generate_series(0, 9) m
                    UNION ALL SELECT 'm' || m || '.s' || s, 2 FROM generate_series(0, 9) m, generate_series(0, 9) s
                    UNION ALL SELECT 'm' || m || '.s' || s || '.p' || p, 3
                      FROM generate_series(0, 9) m, generate_series(0, 9) s, generate_series(0, 9) p) codes
                ORDER BY codes.depth, codes.code
                """)
        }
        var first = 1
        while first <= scale.tenants {
            let last = min(scale.tenants, first + tenantsPerChunk - 1)
            try await step("tenants \(first.formatted())–\(last.formatted()) of \(scale.tenants.formatted())") {
                try await loadTenants(first, last)
            }
            first = last + 1
        }
        try await step("write-test tenant (\(BenchmarkScale.writeTenantMembers.formatted()) members)") {
            try await loadWriteTenant()
        }
        let perUser = scale.resourceGrantsPerUser
        for k in stride(from: 0, to: perUser, by: 10) {
            let last = min(perUser, k + 10) - 1
            try await step("resource grants \((k * scale.users + 1).formatted())–\(((last + 1) * scale.users).formatted()) of \(scale.resourceGrants.formatted())") {
                try await loadResourceGrants(k...last)
            }
        }
        try await step("ANALYZE") { try await connection.query("ANALYZE") }
    }

    private func step(_ name: String, _ body: () async throws -> Void) async throws {
        let started = ContinuousClock.now
        try await body()
        progress("  loaded \(name) in \((ContinuousClock.now - started).secondsText) s")
    }

    /// Tenants `first...last`, their users, groups, sets, memberships and assignments.
    private func loadTenants(_ first: Int, _ last: Int) async throws {
        let upt = scale.usersPerTenant
        let user = BenchmarkIDs.sql(BenchmarkIDs.user, "n")
        let tenantOfUser = BenchmarkIDs.sql(BenchmarkIDs.tenant, "(n - 1) / \(upt) + 1")
        let tenant = BenchmarkIDs.sql(BenchmarkIDs.tenant, "t")
        let group = BenchmarkIDs.sql(BenchmarkIDs.group, "(t - 1) * 10 + g + 1")
        let usersRange = "generate_series(\((first - 1) * upt + 1), \(last * upt)) n"
        let tenantsRange = "generate_series(\(first), \(last)) t"
        try await connection.withTransaction { connection in
            try await connection.query("INSERT INTO auth.tenant (tenant_id, name, code) SELECT \(tenant), 'Tenant ' || t, 'T' || t FROM \(tenantsRange)")
            try await connection.query("INSERT INTO auth.user_info (user_id, username, email, display_name) SELECT \(user), 'user' || n, 'user' || n || '@example.com', 'User ' || n FROM \(usersRange)")
            try await connection.query("INSERT INTO auth.tenant_user (tenant_id, user_id) SELECT \(tenantOfUser), \(user) FROM \(usersRange)")
            try await connection.query("INSERT INTO auth.user_group (user_group_id, tenant_id, code, name) SELECT \(group), \(tenant), 'G' || g, 'Group ' || g FROM \(tenantsRange), generate_series(0, 9) g")
            try await connection.query("INSERT INTO auth.perm_set (tenant_id, code, name) SELECT \(tenant), 'S' || k, 'Set ' || k FROM \(tenantsRange), generate_series(0, 9) k")
            // Set k: two sections (20 leaves) and three single leaves.
            try await connection.query("""
                INSERT INTO auth.perm_set_permission (perm_set_id, permission_id)
                SELECT DISTINCT ps.perm_set_id, p.permission_id
                FROM auth.perm_set ps
                CROSS JOIN LATERAL (SELECT substr(ps.code, 2)::int AS k) s
                CROSS JOIN LATERAL (VALUES
                    ('m' || k || '.s' || k),
                    ('m' || (k + 5) % 10 || '.s' || (k + 1) % 10),
                    ('m' || k || '.s' || (k + 2) % 10 || '.p' || k),
                    ('m' || (k + 1) % 10 || '.s' || k || '.p' || (k + 3) % 10),
                    ('m' || (k + 2) % 10 || '.s' || (k + 4) % 10 || '.p1')) c(code)
                JOIN auth.permission p ON p.code::text = c.code
                WHERE ps.tenant_id IN (SELECT \(tenant) FROM \(tenantsRange))
                """)
            // Group g holds sets g and g+1.
            try await connection.query("""
                INSERT INTO auth.permission_assignment (tenant_id, user_group_id, perm_set_id)
                SELECT ug.tenant_id, ug.user_group_id, ps.perm_set_id
                FROM auth.user_group ug
                JOIN auth.perm_set ps ON ps.tenant_id = ug.tenant_id
                 AND substr(ps.code, 2)::int IN (substr(ug.code, 2)::int, (substr(ug.code, 2)::int + 1) % 10)
                WHERE ug.tenant_id IN (SELECT \(tenant) FROM \(tenantsRange))
                """)
            // Every user in groups n % 10 and (n + 3) % 10 of their tenant.
            try await connection.query("""
                INSERT INTO auth.user_group_member (tenant_id, user_group_id, user_id)
                SELECT \(tenantOfUser), \(BenchmarkIDs.sql(BenchmarkIDs.group, "((n - 1) / \(upt)) * 10 + g + 1")), \(user)
                FROM \(usersRange), LATERAL (VALUES (n % 10), ((n + 3) % 10)) gs(g)
                """)
            // Every 4th user holds one leaf directly.
            try await connection.query("""
                INSERT INTO auth.permission_assignment (tenant_id, user_id, permission_id)
                SELECT \(tenantOfUser), \(user), p.permission_id
                FROM \(usersRange)
                JOIN auth.permission p ON p.code::text = 'm' || (n % 1000) / 100 || '.s' || (n % 100) / 10 || '.p' || n % 10
                WHERE n % 4 = 0
                """)
        }
    }

    /// The `k`-th resource grants of every user, for each `k` of `round`: through the bulk path,
    /// audit rows included.
    private func loadResourceGrants(_ round: ClosedRange<Int>) async throws {
        let upt = scale.usersPerTenant
        try await connection.query("""
            INSERT INTO auth.resource_grant (tenant_id, resource_type, resource_id, user_id, permission_no, is_deny)
            SELECT \(BenchmarkIDs.sql(BenchmarkIDs.tenant, "(n - 1) / \(upt) + 1")), 'document',
                   'd' || (n * 31 + k * 101) % \(BenchmarkScale.documentsPerTenant),
                   \(BenchmarkIDs.sql(BenchmarkIDs.user, "n")), p.permission_no, (n + k) % 10 = 0
              FROM generate_series(\(round.lowerBound), \(round.upperBound)) k CROSS JOIN generate_series(1, \(scale.users)) n
              JOIN auth.permission p ON p.code::text = 'm' || (n * 7 + k) % 1000 / 100 || '.s' || (n * 7 + k) % 100 / 10
                                                      || '.p' || (n * 7 + k) % 10
            """)
    }

    /// A tenant of 10,000 members in one group, and sets for the write timings.
    private func loadWriteTenant() async throws {
        let tenant = WriteTenant(scale: scale)
        let user = BenchmarkIDs.sql(BenchmarkIDs.user, "n")
        let members = "generate_series(\(tenant.firstUser), \(tenant.firstUser + BenchmarkScale.writeTenantMembers - 1)) n"
        try await connection.withTransaction { connection in
            try await connection.query("INSERT INTO auth.tenant (tenant_id, name, code) VALUES ($1, 'Write test', 'WRITES')", [tenant.id])
            try await connection.query("INSERT INTO auth.user_info (user_id, username) SELECT \(user), 'writer' || n FROM \(members)")
            try await connection.query("INSERT INTO auth.tenant_user (tenant_id, user_id) SELECT $1::uuid, \(user) FROM \(members)", [tenant.id])
            try await connection.query("INSERT INTO auth.user_group (user_group_id, tenant_id, code, name) VALUES ($1, $2, 'ALL', 'Everyone')", [tenant.group, tenant.id])
            try await connection.query("INSERT INTO auth.user_group_member (tenant_id, user_group_id, user_id) SELECT $1::uuid, $2::uuid, \(user) FROM \(members)", [tenant.id, tenant.group])
            for set in [WriteTenant.sharedSet, WriteTenant.groupSet] {
                try await connection.query("INSERT INTO auth.perm_set (tenant_id, code, name) VALUES ($1, $2, $2)", [tenant.id, set])
                try await connection.query("""
                    INSERT INTO auth.perm_set_permission (perm_set_id, permission_id)
                    SELECT ps.perm_set_id, p.permission_id FROM auth.perm_set ps, auth.permission p
                    WHERE ps.tenant_id = $1 AND ps.code = $2 AND p.code::text IN ('m1.s1', 'm2.s2.p2')
                    """, [tenant.id, set])
            }
            try await connection.query("""
                INSERT INTO auth.permission_assignment (tenant_id, user_id, perm_set_id)
                SELECT $1::uuid, \(user), ps.perm_set_id FROM auth.perm_set ps, \(
                    "generate_series(\(tenant.firstUser), \(tenant.firstUser + BenchmarkScale.writeSetUsers - 1)) n")
                WHERE ps.tenant_id = $1 AND ps.code = $2
                """, [tenant.id, WriteTenant.sharedSet])
        }
    }
}

/// The extra tenant the write timings change.
struct WriteTenant {
    let scale: BenchmarkScale
    var number: Int { scale.tenants + 1 }
    var id: String { BenchmarkIDs.text(BenchmarkIDs.tenant, number) }
    var group: String { BenchmarkIDs.text(BenchmarkIDs.group, number * 10 + 1) }
    var firstUser: Int { scale.users + 1 }
    /// Directly assigned to 1,000 members; gains a permission in the write test.
    static let sharedSet = "SHARED"
    /// Assigned to the 10,000-member group in the write test.
    static let groupSet = "FOR_GROUP"
}
