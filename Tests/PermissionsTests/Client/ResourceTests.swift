import Foundation
import Permissions
import PQ
import Testing

/// Access to individual resources: grants and denies on one resource to a member or a group,
/// with the tenant-wide semantics (live access, active groups, inheritance along the catalogue,
/// owners), their errors by SQLSTATE, list filtering, the row-level helper, and other tenants.
@Suite("Resources: codes granted or denied on one resource")
struct ResourceTests {
    static let doc1 = Resource(type: "document", id: "doc-1")
    static let doc2 = Resource(type: "document", id: "doc-2")

    /// A tenant with the catalogue `documents` → `documents.read`, `documents.edit`, and a member.
    static func setUp(_ f: AuthFixture) async throws -> (tenant: TenantID, user: UserID) {
        try await f.catalogue(["documents.read", "documents.edit"])
        let tenant = try await f.tenant()
        return (tenant, try await f.member(of: tenant))
    }

    @Test("a grant to a member reaches that resource and the code's descendants, nothing else")
    func grantToMember() async throws {
        try await AuthFixture.run { f in
            let (tenant, user) = try await Self.setUp(f)
            let other = try await f.member(of: tenant, "other")
            func has(_ user: UserID, _ resource: Resource, _ code: String) async throws -> Bool {
                try await f.auth.hasResourcePermission(tenant: tenant, user: user, on: resource, code: code)
            }
            #expect(try await has(user, Self.doc1, "documents.read") == false)
            try await f.auth.grantResourcePermission(tenant: tenant, on: Self.doc1, code: "documents", to: .user(user))
            #expect(try await has(user, Self.doc1, "documents.read"))
            #expect(try await has(user, Self.doc1, "documents"))
            #expect(try await has(user, Self.doc2, "documents.read") == false, "another resource")
            #expect(try await has(user, Resource(type: "folder", id: "doc-1"), "documents.read") == false, "another type")
            #expect(try await has(other, Self.doc1, "documents.read") == false, "another member")
            // A resource grant is no tenant-wide grant.
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "documents.read") == false)

            try await f.auth.grantResourcePermission(tenant: tenant, on: Self.doc2, code: "documents.read", to: .user(other))
            #expect(try await has(other, Self.doc2, "documents.read"))
            #expect(try await has(other, Self.doc2, "documents") == false, "holding a child never grants its parent")
        }
    }

    @Test("a group's grant reaches its members while the group is active and they are in it")
    func grantToGroup() async throws {
        try await AuthFixture.run { f in
            let (tenant, user) = try await Self.setUp(f)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "editors", name: "Editors")
            try await f.auth.grantResourcePermission(tenant: tenant, on: Self.doc1, code: "documents.edit", to: .group(group))
            func has() async throws -> Bool {
                try await f.auth.hasResourcePermission(tenant: tenant, user: user, on: Self.doc1, code: "documents.edit")
            }
            #expect(try await has() == false)
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            #expect(try await has())
            try await f.auth.deactivateUserGroup(tenant: tenant, group: group)
            #expect(try await has() == false, "an inactive group grants nothing")
            try await f.auth.activateUserGroup(tenant: tenant, group: group)
            #expect(try await has())
            try await f.auth.removeUserFromGroup(tenant: tenant, group: group, user: user)
            #expect(try await has() == false)
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            try await f.auth.deleteUserGroup(tenant: tenant, group: group)
            #expect(try await has() == false)
            #expect(try await f.auth.resourceGrants(tenant: tenant, on: Self.doc1).isEmpty, "the group's grants go with it")
        }
    }

    @Test("a tenant-wide grant covers every resource; a deny there overrides it and every grant; the owner passes")
    func denyOverrides() async throws {
        try await AuthFixture.run { f in
            let (tenant, user) = try await Self.setUp(f)
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("documents"))
            for id in ["a", "b", "c"] {
                #expect(try await f.auth.hasResourcePermission(tenant: tenant, user: user, on: Resource(type: "document", id: id),
                                                               code: "documents.read"))
            }
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "interns", name: "Interns")
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            // Denying the parent code to the group denies the child to its members, over the
            // tenant-wide grant and over a grant on the resource itself.
            try await f.auth.grantResourcePermission(tenant: tenant, on: Self.doc1, code: "documents.read", to: .user(user))
            try await f.auth.denyResourcePermission(tenant: tenant, on: Self.doc1, code: "documents", to: .group(group))
            #expect(try await f.auth.hasResourcePermission(tenant: tenant, user: user, on: Self.doc1, code: "documents.read") == false)
            #expect(try await f.auth.hasResourcePermission(tenant: tenant, user: user, on: Self.doc2, code: "documents.read"))
            // The deny of an inactive group denies nothing.
            try await f.auth.deactivateUserGroup(tenant: tenant, group: group)
            #expect(try await f.auth.hasResourcePermission(tenant: tenant, user: user, on: Self.doc1, code: "documents.read"))

            let owner = try await f.user("owner")
            let owned = try await f.tenant("Owned", owner: owner)
            try await f.auth.denyResourcePermission(tenant: owned, on: Self.doc1, code: "documents", to: .user(owner))
            #expect(try await f.auth.hasResourcePermission(tenant: owned, user: owner, on: Self.doc1, code: "documents.edit"))
        }
    }

    @Test("nothing without live access: an inactive tenant, user or membership; a hard removal takes the grants")
    func liveAccessOnly() async throws {
        try await AuthFixture.run { f in
            let (tenant, user) = try await Self.setUp(f)
            try await f.auth.grantResourcePermission(tenant: tenant, on: Self.doc1, code: "documents.read", to: .user(user))
            func has() async throws -> Bool {
                try await f.auth.hasResourcePermission(tenant: tenant, user: user, on: Self.doc1, code: "documents.read")
            }
            try await f.auth.deactivateTenant(tenant)
            #expect(try await has() == false)
            try await f.auth.activateTenant(tenant)
            try await f.auth.deactivateUser(user)
            #expect(try await has() == false)
            try await f.auth.activateUser(user)
            try await f.auth.removeUserFromTenant(tenant, user: user)
            #expect(try await has() == false)
            try await f.auth.addUserToTenant(tenant, user: user)
            #expect(try await has(), "a soft removal kept the grant")
            try await f.auth.removeUserFromTenant(tenant, user: user, hard: true)
            #expect(try await f.auth.resourceGrants(tenant: tenant, on: Self.doc1).isEmpty)
        }
    }

    @Test("grant and deny replace each other, again changes nothing; revoke says whether there was one; listed")
    func oneStatePerGrantee() async throws {
        try await AuthFixture.run { f in
            let (tenant, user) = try await Self.setUp(f)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "ops", name: "Ops")
            let granted = try await f.auth.grantResourcePermission(tenant: tenant, on: Self.doc1, code: "documents.read", to: .user(user))
            #expect(try await f.auth.grantResourcePermission(tenant: tenant, on: Self.doc1, code: "documents.read", to: .user(user)) == granted)
            #expect(try await f.auth.denyResourcePermission(tenant: tenant, on: Self.doc1, code: "documents.read", to: .user(user)) == granted)
            try await f.auth.grantResourcePermission(tenant: tenant, on: Self.doc1, code: "documents.edit", to: .group(group))
            let grants = try await f.auth.resourceGrants(tenant: tenant, on: Self.doc1)
            #expect(grants.map(\.code) == ["documents.edit", "documents.read"])
            #expect(grants.map(\.isDeny) == [false, true])
            #expect(grants[0].grantee == .group(group) && grants[0].granteeName == "ops")
            #expect(grants[1].grantee == .user(user) && grants[1].id == granted)

            #expect(try await f.auth.revokeResourcePermission(tenant: tenant, on: Self.doc1, code: "documents.read", from: .user(user)))
            #expect(try await f.auth.revokeResourcePermission(tenant: tenant, on: Self.doc1, code: "documents.read", from: .user(user)) == false)
            #expect(try await f.auth.resourceGrants(tenant: tenant, on: Self.doc1).count == 1)
            // Every change is in the audit log.
            let actions = try await f.auth.listAuditLog(tenant: tenant, action: "resource_grant").map(\.action)
            #expect(actions.sorted() == ["resource_grant.delete", "resource_grant.insert", "resource_grant.insert", "resource_grant.update"])
        }
    }

    @Test("a list filtered to the resources a user may use, in the order given, each once")
    func filterIDs() async throws {
        try await AuthFixture.run { f in
            let (tenant, user) = try await Self.setUp(f)
            func filter(_ ids: [String], _ user: UserID, in tenant: TenantID) async throws -> [String] {
                try await f.auth.filterResourceIDs(tenant: tenant, user: user, type: "document", ids: ids, code: "documents.read")
            }
            let ids = ["d4", "d1", "d3", "d2", "d1"]
            #expect(try await filter(ids, user, in: tenant).isEmpty)
            try await f.auth.grantResourcePermission(tenant: tenant, on: Resource(type: "document", id: "d3"), code: "documents",
                                                    to: .user(user))
            try await f.auth.grantResourcePermission(tenant: tenant, on: Resource(type: "document", id: "d1"), code: "documents.read",
                                                    to: .user(user))
            #expect(try await filter(ids, user, in: tenant) == ["d1", "d3"])
            // Tenant-wide: all of them, but the denied one.
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("documents.read"))
            try await f.auth.denyResourcePermission(tenant: tenant, on: Resource(type: "document", id: "d2"), code: "documents.read",
                                                   to: .user(user))
            #expect(try await filter(ids, user, in: tenant) == ["d4", "d1", "d3"])
            #expect(try await filter([], user, in: tenant).isEmpty)
            try await f.auth.deactivateUser(user)
            #expect(try await filter(ids, user, in: tenant).isEmpty)
            let owner = try await f.user("owner")
            #expect(try await filter(ids, owner, in: try await f.tenant("Owned", owner: owner)) == ["d4", "d1", "d3", "d2"])
        }
    }

    @Test("errors by SQLSTATE: malformed resources, NULLs, grantees, unknown ids and codes, another tenant's group")
    func errors() async throws {
        try await AuthFixture.run { f in
            let (tenant, user) = try await Self.setUp(f)
            let other = try await f.tenant("Other")
            let theirGroup = try await f.auth.createUserGroup(tenant: other, code: "theirs", name: "Theirs")
            let stranger = try await f.member(of: other, "stranger")
            func grant(_ resource: Resource = Self.doc1, _ code: String = "documents.read", to grantee: Grantee,
                       in tenant: TenantID) async throws {
                try await f.auth.grantResourcePermission(tenant: tenant, on: resource, code: code, to: grantee)
            }
            for type in ["Document", "1doc", "doc-ument", String(repeating: "d", count: 64)] {
                await expectError(.invalidResource) { try await grant(Resource(type: type, id: "x"), to: .user(user), in: tenant) }
            }
            await expectError(.invalidResource) { try await grant(Resource(type: "document", id: String(repeating: "x", count: 256)), to: .user(user), in: tenant) }
            await expectError(.invalidArgument) { try await grant(Resource(type: "document", id: " "), to: .user(user), in: tenant) }
            await expectError(.unknownPermission) { try await grant(Self.doc1, "documents.delete", to: .user(user), in: tenant) }
            await expectError(.invalidPermissionCode) { try await grant(Self.doc1, "Not A Code", to: .user(user), in: tenant) }
            await expectError(.unknownTenant) { try await grant(to: .user(user), in: TenantID(UUID())) }
            await expectError(.unknownUser) { try await grant(to: .user(UserID(UUID())), in: tenant) }
            await expectError(.notTenantMember) { try await grant(to: .user(stranger), in: tenant) }
            await expectError(.unknownUserGroup) { try await grant(to: .group(theirGroup), in: tenant) }
            // Revoking checks the same, in the same order: an unknown grantee, or another tenant's, is named.
            func revoke(_ resource: Resource = Self.doc1, _ code: String = "documents.read", from grantee: Grantee,
                        in tenant: TenantID) async throws {
                try await f.auth.revokeResourcePermission(tenant: tenant, on: resource, code: code, from: grantee)
            }
            await expectError(.invalidResource) { try await revoke(Resource(type: "Document", id: "x"), from: .user(user), in: tenant) }
            await expectError(.invalidArgument) { try await revoke(Resource(type: "document", id: ""), from: .user(user), in: tenant) }
            await expectError(.unknownPermission) { try await revoke(Self.doc1, "documents.delete", from: .user(user), in: tenant) }
            await expectError(.unknownTenant) { try await revoke(from: .user(user), in: TenantID(UUID())) }
            await expectError(.unknownUser) { try await revoke(from: .user(UserID(UUID())), in: tenant) }
            await expectError(.notTenantMember) { try await revoke(from: .user(stranger), in: tenant) }
            await expectError(.unknownUserGroup) { try await revoke(from: .group(theirGroup), in: tenant) }
            await expectError(.invalidAssignment) {
                try await f.call("SELECT auth.grant_resource_permission($1, 'document', 'x', 'documents.read')", [tenant])
            }
            await expectError(.invalidAssignment) {
                try await f.call("SELECT auth.revoke_resource_permission($1, 'document', 'x', 'documents.read', $2, $3)",
                                 [tenant, user, theirGroup])
            }
            await expectError(.unknownPermission) {
                _ = try await f.auth.hasResourcePermission(tenant: tenant, user: user, on: Self.doc1, code: "documents.delete")
            }
            await expectError(.invalidArgument) {
                try await f.call("SELECT auth.has_resource_permission($1, $2, 'document', NULL, 'documents.read')", [tenant, user])
            }
            await expectError(.invalidArgument) {
                try await f.call("SELECT * FROM auth.filter_resource_ids($1, $2, 'document', NULL, 'documents.read')", [tenant, user])
            }
            // Direct DML meets the same rules as constraints.
            await #expect(throws: PostgresError.self) {
                try await f.sql("""
                    INSERT INTO auth.resource_grant (tenant_id, resource_type, resource_id, user_id, user_group_id, permission_no)
                    SELECT $1, 'document', 'x', $2, $3, permission_no FROM auth.permission WHERE code = 'documents.read'
                    """, [tenant, user, theirGroup])
            }
            #expect(try await f.auth.resourceGrants(tenant: tenant, on: Resource(type: "document", id: "x")).isEmpty)
        }
    }

    @Test("on a snapshot older than the compiled catalogue, the checks read the catalogue table: its codes, and only those")
    func snapshotOlderThanCompiledCatalogue() async throws {
        try await AuthFixture.run { f in
            let (tenant, user) = try await Self.setUp(f)
            try await f.auth.grantResourcePermission(tenant: tenant, on: Self.doc1, code: "documents", to: .user(user))
            let old = try await Session.open(f)
            try await old.sql("BEGIN ISOLATION LEVEL REPEATABLE READ")
            try await old.sql("SELECT count(*) FROM auth.permission")
            // Regenerates auth.permission_ancestors, whose answers the old snapshot must not use.
            _ = try await f.auth.createPermission(code: "documents.print", name: "Print")
            #expect(try await old.auth.hasResourcePermission(tenant: tenant, user: user, on: Self.doc1, code: "documents.read"))
            #expect(try await old.auth.filterResourceIDs(tenant: tenant, user: user, type: "document", ids: ["doc-1", "doc-2"],
                                                         code: "documents.edit") == ["doc-1"])
            await expectError(.unknownPermission) {
                _ = try await old.auth.hasResourcePermission(tenant: tenant, user: user, on: Self.doc1, code: "documents.print")
            }
            await old.close()
            let fresh = try await Session.open(f)
            await expectError(.unknownPermission) {
                _ = try await fresh.auth.filterResourceIDs(tenant: tenant, user: user, type: "document", ids: ["doc-1"], code: "documents.scan")
            }
            #expect(try await fresh.auth.hasResourcePermission(tenant: tenant, user: user, on: Self.doc1, code: "documents.print"))
            await fresh.close()
        }
    }

    @Test("grants of one tenant mean nothing in another, for the same resource ids")
    func crossTenant() async throws {
        try await AuthFixture.run { f in
            let (a, user) = try await Self.setUp(f)
            let b = try await f.tenant("B")
            try await f.auth.addUserToTenant(b, user: user)
            try await f.auth.grantResourcePermission(tenant: a, on: Self.doc1, code: "documents.read", to: .user(user))
            #expect(try await f.auth.hasResourcePermission(tenant: a, user: user, on: Self.doc1, code: "documents.read"))
            #expect(try await f.auth.hasResourcePermission(tenant: b, user: user, on: Self.doc1, code: "documents.read") == false)
            #expect(try await f.auth.filterResourceIDs(tenant: b, user: user, type: "document", ids: ["doc-1"], code: "documents.read").isEmpty)
            #expect(try await f.auth.resourceGrants(tenant: b, on: Self.doc1).isEmpty)
        }
    }

    @Test("a code granted on a resource is in use: delete_permission refuses (QS001), or takes the grants with force")
    func codeInUse() async throws {
        try await AuthFixture.run { f in
            let (tenant, user) = try await Self.setUp(f)
            try await f.auth.denyResourcePermission(tenant: tenant, on: Self.doc1, code: "documents.edit", to: .user(user))
            do {
                try await f.auth.deletePermission(code: "documents")
                Issue.record("a code denied on a resource was deleted")
            } catch let error as PermissionsError {
                #expect(error.code == .permissionInUse)
                #expect(error.detail?.contains("documents.edit denied on document doc-1") == true)
            }
            try await f.auth.deletePermission(code: "documents", force: true)
            #expect(try await f.auth.resourceGrants(tenant: tenant, on: Self.doc1).isEmpty)
        }
    }

    @Test("row-level security: auth.can_access_resource answers for the transaction's tenant context, no row outside one")
    func rowLevelHelper() async throws {
        try await AuthFixture.run { f in
            let (tenant, user) = try await Self.setUp(f)
            try await f.auth.grantResourcePermission(tenant: tenant, on: Self.doc1, code: "documents.read", to: .user(user))
            try await f.sql("CREATE TABLE documents (id text PRIMARY KEY, body text)")
            try await f.sql("INSERT INTO documents VALUES ('doc-1', 'one'), ('doc-2', 'two')")
            try await f.sql("ALTER TABLE documents ENABLE ROW LEVEL SECURITY")
            try await f.sql("CREATE POLICY documents_read ON documents FOR SELECT USING (auth.can_access_resource('document', id, 'documents.read'))")
            let (role, reader) = try await f.login(memberOf: "auth_app")
            try await f.sql("GRANT SELECT ON documents TO \(role)")
            #expect(try await reader.query("SELECT id FROM documents", []).isEmpty, "no context, no rows")
            let visible = try await reader.withTransaction { connection in
                try await AuthClient(connection).setTenantContext(tenant: tenant, user: user)
                return try await connection.query("SELECT id FROM documents ORDER BY id", []).map { try $0.decode(column: "id") as String }
            }
            #expect(visible == ["doc-1"])
        }
    }
}
