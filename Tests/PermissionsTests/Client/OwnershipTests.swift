import Foundation
import Permissions
import PQ
import Testing

/// Ownership as a set of facts (issue 16, item 4): an operation whose result already holds is
/// no error, the reference's transfer by direct UPDATE works with several owners, and a
/// statement that cannot work fails with our SQLSTATE, never a raw constraint error.
@Suite("Ownership: the reference's statements, several owners, and our errors for direct DML")
struct OwnershipTests {
    static func owners(_ f: AuthFixture, _ tenant: TenantID) async throws -> Set<UserID> {
        Set(try await f.sql("SELECT user_id FROM auth.owner WHERE tenant_id = $1 AND user_group_id IS NULL", [tenant])
            .map { try $0.decode(UserID.self, at: 0) })
    }

    static func groupOwners(_ f: AuthFixture, _ group: UserGroupID) async throws -> Set<UserID> {
        Set(try await f.sql("SELECT user_id FROM auth.owner WHERE user_group_id = $1", [group])
            .map { try $0.decode(UserID.self, at: 0) })
    }

    @Test("after create_tenant(A) and assign_tenant_owner(B), the reference's UPDATE hands the tenant to C alone")
    func transferFromSeveralOwners() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["billing.refund"])
            let a = try await f.user("a"), b = try await f.user("b"), c = try await f.user("c")
            let tenant = try await f.tenant(owner: a)
            try await f.auth.assignTenantOwner(tenant, user: b)
            try await f.auth.assignTenantOwner(tenant, user: b)  // the result holds: no error

            let updated = try await f.sql("UPDATE auth.owner SET user_id = $1 WHERE tenant_id = $2", [c, tenant]).affectedRows
            #expect(updated == 1, "one row became C's, the other merged into it")
            #expect(try await Self.owners(f, tenant) == [c])
            #expect(try await f.auth.hasPermission(tenant: tenant, user: c, code: "billing.refund"))
            for former in [a, b] {
                #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: former), "former owners stay members")
                #expect(try await !f.auth.hasPermission(tenant: tenant, user: former, code: "billing.refund"))
            }
            #expect(try await Reliability.staleAccess(f.connection) == [])
            // The audit log says what happened: one ownership moved, one merged away.
            let actions = try await f.sql("""
                SELECT action FROM auth.audit_log WHERE action LIKE 'owner.%' AND action <> 'owner.insert' ORDER BY audit_id
                """).map { try $0.decode(String.self, at: 0) }
            #expect(actions.sorted() == ["owner.delete", "owner.update"])
            // Running it again changes nothing.
            try await f.sql("UPDATE auth.owner SET user_id = $1 WHERE tenant_id = $2", [c, tenant])
            #expect(try await Self.owners(f, tenant) == [c])
        }
    }

    @Test("as written, the reference's UPDATE moves the tenant's group ownerships too, merging where C owns the group already")
    func transferMovesGroupOwnerships() async throws {
        try await AuthFixture.run { f in
            let a = try await f.user("a"), c = try await f.user("c")
            let tenant = try await f.tenant(owner: a)
            let other = try await f.tenant("Other", owner: a)
            let staff = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            let board = try await f.auth.createUserGroup(tenant: tenant, code: "BOARD", name: "Board")
            let dan = try await f.member(of: tenant, "dan")
            try await f.auth.assignGroupOwner(tenant: tenant, group: staff, user: dan)
            try await f.auth.assignGroupOwner(tenant: tenant, group: board, user: dan)
            try await f.auth.addUserToTenant(tenant, user: c)
            try await f.auth.assignGroupOwner(tenant: tenant, group: board, user: c)

            try await f.sql("UPDATE auth.owner SET user_id = $1 WHERE tenant_id = $2", [c, tenant])
            #expect(try await Self.owners(f, tenant) == [c])
            #expect(try await Self.groupOwners(f, staff) == [c])
            #expect(try await Self.groupOwners(f, board) == [c])
            #expect(try await Self.owners(f, other) == [a], "another tenant is untouched")

            // Restricted to the tenant's own ownership, the statement leaves groups alone.
            try await f.sql("UPDATE auth.owner SET user_id = $1 WHERE tenant_id = $2 AND user_group_id IS NULL", [dan, tenant])
            #expect(try await Self.owners(f, tenant) == [dan])
            #expect(try await Self.groupOwners(f, staff) == [c])
        }
    }

    @Test("the UPDATE makes a non-member C a member, whatever order it meets the rows in")
    func transferToNonMember() async throws {
        try await AuthFixture.run { f in
            let a = try await f.user("a"), c = try await f.user("c")
            let tenant = try await f.tenant(owner: a)
            // Group ownership rows created first, so the statement may meet them before the tenant's.
            for code in ["G1", "G2"] {
                let group = try await f.auth.createUserGroup(tenant: tenant, code: code, name: code)
                try await f.auth.assignGroupOwner(tenant: tenant, group: group, user: a)
            }
            try await f.sql("UPDATE auth.owner SET user_id = $1 WHERE tenant_id = $2", [c, tenant])
            #expect(try await Self.owners(f, tenant) == [c])
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: c))
            #expect(try await f.sql("SELECT count(*) FROM auth.owner WHERE user_id = $1", [c]).scalar(Int.self) == 3)
        }
    }

    @Test("INSERT of an existing ownership inserts nothing; promoting a group owner who owns the tenant merges")
    func existingOwnershipIsNoError() async throws {
        try await AuthFixture.run { f in
            let a = try await f.user("a")
            let tenant = try await f.tenant(owner: a)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            try await f.auth.assignGroupOwner(tenant: tenant, group: group, user: a)
            try await f.auth.assignGroupOwner(tenant: tenant, group: group, user: a)

            #expect(try await f.sql("INSERT INTO auth.owner (tenant_id, user_id) VALUES ($1, $2)", [tenant, a]).affectedRows == 0)
            #expect(try await f.sql("INSERT INTO auth.owner (tenant_id, user_group_id, user_id) VALUES ($1, $2, $3)",
                                    [tenant, group, a]).affectedRows == 0)
            try await f.sql("UPDATE auth.owner SET user_group_id = NULL WHERE user_group_id = $1", [group])
            #expect(try await Self.owners(f, tenant) == [a])
            #expect(try await Self.groupOwners(f, group) == [])
            #expect(try await f.sql("SELECT count(*) FROM auth.owner").scalar(Int.self) == 1)
        }
    }

    @Test("direct DML that cannot work fails with our SQLSTATE, a detail and a hint, and changes nothing")
    func impossibleStatements() async throws {
        try await AuthFixture.run { f in
            let a = try await f.user("a")
            let tenant = try await f.tenant(owner: a)
            let other = try await f.tenant("Other")
            let theirGroup = try await f.auth.createUserGroup(tenant: other, code: "G", name: "G")
            let before = try await Reliability.snapshot(f.connection)
            let cases: [(String, [any PostgresEncodable], PermissionsError.Code)] = [
                ("UPDATE auth.owner SET user_id = gen_random_uuid() WHERE tenant_id = $1", [tenant], .unknownUser),
                ("UPDATE auth.owner SET user_id = NULL WHERE tenant_id = $1", [tenant], .invalidArgument),
                ("UPDATE auth.owner SET tenant_id = gen_random_uuid() WHERE tenant_id = $1", [tenant], .unknownTenant),
                ("UPDATE auth.owner SET user_group_id = $2 WHERE tenant_id = $1", [tenant, theirGroup], .unknownUserGroup),
                ("INSERT INTO auth.owner (tenant_id, user_id) VALUES ($1, gen_random_uuid())", [tenant], .unknownUser),
                ("INSERT INTO auth.owner (tenant_id, user_id) VALUES (gen_random_uuid(), $1)", [a], .unknownTenant),
                ("INSERT INTO auth.owner (tenant_id, user_group_id, user_id) VALUES ($1, $2, $3)", [tenant, theirGroup, a], .unknownUserGroup),
                ("INSERT INTO auth.owner (tenant_id, user_id) VALUES (NULL, $1)", [a], .invalidArgument),
            ]
            for (statement, binds, code) in cases {
                do {
                    try await f.call(statement, binds)
                    Issue.record("\(statement) succeeded")
                } catch let error as PermissionsError {
                    #expect(error.code == code, "\(statement): \(error)")
                    #expect(error.detail != nil && error.hint != nil, "\(statement)")
                }
            }
            #expect(Reliability.changed(before, try await Reliability.snapshot(f.connection)) == [])
        }
    }

    @Test("two sessions adding the same ownership by direct INSERT: the second waits, then inserts nothing")
    func concurrentInserts() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            let insert = "INSERT INTO auth.owner (tenant_id, user_id) VALUES ($1, $2)"
            let result = try await Reliability.race(f, first: { auth in
                try await auth.executor.query(insert, [tenant, user], prepared: false)
            }, second: { auth in
                try await auth.executor.query(insert, [tenant, user], prepared: false)
            })
            #expect(result.first.succeeded && result.second.succeeded, "\(result.second)")
            #expect(result.secondWasBlocked)
            #expect(try await Self.owners(f, tenant) == [user])
        }
    }
}
