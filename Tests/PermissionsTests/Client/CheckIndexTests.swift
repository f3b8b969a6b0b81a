import Permissions
import PostgresTestSupport
import PQ
import Testing

/// `auth.has_permission` reads `auth.effective_access` through one probe of the hash index
/// `effective_access_member_key` (migration 0004). A plan on the primary key would still be
/// right, only slower, so nothing else would notice if a change to the query lost the index.
@Suite("The check's index probe")
struct CheckIndexTests {
    @Test("a check probes the member-key hash index, never the primary key, with custom and generic plans")
    func probesTheHashIndex() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["users.create_user"])
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let member = try await f.member(of: tenant)
            try await f.auth.assignPermission(tenant: tenant, to: .user(member), grant: .permission("users.create_user"))
            // A table this small would be read sequentially; which index is chosen is the point.
            try await f.sql("SET enable_seqscan = off")

            // PL/pgSQL plans the query afresh for the first five calls, then reuses a generic plan.
            // The counters also hold earlier statements' scans not yet sent to the statistics
            // collector, so the checks are measured as a difference.
            let calls = 12
            let scans = try await f.connection.withTransaction { connection in
                func counters() async throws -> (hash: Int, primaryKey: Int) {
                    let row = try await connection.query("""
                        SELECT pg_stat_get_xact_numscans('auth.effective_access_member_key'::regclass),
                               pg_stat_get_xact_numscans('auth.effective_access_pkey'::regclass)
                        """).single()
                    return (try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1))
                }
                let before = try await counters()
                for _ in 1...calls {
                    #expect(try await AuthClient(connection).hasPermission(tenant: tenant, user: member, code: "users.create_user"))
                }
                let after = try await counters()
                return (hash: after.hash - before.hash, primaryKey: after.primaryKey - before.primaryKey)
            }
            #expect(scans.hash == calls, "one hash probe per check")
            #expect(scans.primaryKey == 0, "the primary key is never used by a check")
        }
    }

    @Test("the probe finds the row of the asked tenant for a user who belongs to many")
    func manyMembershipsOfOneUser() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["users.create_user", "users.delete_user"])
            let user = try await f.user("consultant")
            var tenants: [TenantID] = []
            for index in 0..<30 {
                let tenant = try await f.tenant("Client \(index)")
                try await f.auth.addUserToTenant(tenant, user: user)
                try await f.auth.assignPermission(tenant: tenant, to: .user(user),
                                                  grant: .permission(index % 2 == 0 ? "users.create_user" : "users.delete_user"))
                tenants.append(tenant)
            }
            for (index, tenant) in tenants.enumerated() {
                let creates = try await f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_user")
                let deletes = try await f.auth.hasPermission(tenant: tenant, user: user, code: "users.delete_user")
                #expect(creates == (index % 2 == 0) && deletes == (index % 2 == 1), "tenant \(index)")
            }
        }
    }
}
