import Foundation
import Permissions
import PQ
import Testing

@Suite("Permission sets")
struct PermSetTests {
    // MARK: Reading state back

    /// The codes in a set, sorted; `tenant` nil reads the template.
    static func codes(_ f: AuthFixture, _ tenant: TenantID?, _ set: String) async throws -> [String] {
        try await f.sql("""
            SELECT p.code::text
              FROM auth.perm_set ps
              JOIN auth.perm_set_permission sp ON sp.perm_set_id = ps.perm_set_id
              JOIN auth.permission p ON p.permission_id = sp.permission_id
             WHERE ps.tenant_id IS NOT DISTINCT FROM $1::uuid AND ps.code = $2
             ORDER BY 1
            """, [tenant, set]).map { try $0.decode(String.self, at: 0) }
    }

    /// The id of a tenant's set (a template when `tenant` is nil), nil when there is none.
    static func setID(_ f: AuthFixture, _ tenant: TenantID?, _ set: String) async throws -> PermSetID? {
        try await f.sql("SELECT perm_set_id FROM auth.perm_set WHERE tenant_id IS NOT DISTINCT FROM $1::uuid AND code = $2",
                        [tenant, set]).rows.first?.decode(PermSetID.self, at: 0)
    }

    static func setCount(_ f: AuthFixture) async throws -> Int {
        try await f.sql("SELECT count(*) FROM auth.perm_set").scalar(Int.self)
    }

    /// A member of `tenant` who holds the set `set` directly.
    static func holder(_ f: AuthFixture, of set: String, in tenant: TenantID) async throws -> UserID {
        let user = try await f.member(of: tenant)
        try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permSet(set))
        return user
    }

    // MARK: create_perm_set

    @Test("create_perm_set creates an empty set in the tenant with the given code, name and description")
    func create() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let id = try await f.auth.createPermSet(tenant: tenant, code: "EDITORS", name: "Editors", description: "Edit documents")
            let row = try await f.sql("SELECT tenant_id, code, name, description FROM auth.perm_set WHERE perm_set_id = $1",
                                      [id]).single()
            #expect(try row.decode(TenantID.self, column: "tenant_id") == tenant)
            #expect(try row.decode(String.self, column: "code") == "EDITORS")
            #expect(try row.decode(String.self, column: "name") == "Editors")
            #expect(try row.decode(String?.self, column: "description") == "Edit documents")
            #expect(try await Self.codes(f, tenant, "EDITORS").isEmpty)
        }
    }

    @Test("a set created with a nil tenant is a template, copied with its codes into tenants created afterwards")
    func templateCopiedIntoNewTenants() async throws {
        try await AuthFixture.run { f in
            let before = try await f.tenant("Before")
            try await f.catalogue(["docs.read", "docs.write"])
            let template = try await f.auth.createPermSet(tenant: nil, code: "BASIC", name: "Basic", description: "Reading")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "BASIC", codes: ["docs.read"])
            #expect(try await f.sql("SELECT tenant_id FROM auth.perm_set WHERE perm_set_id = $1", [template])
                .scalar(TenantID?.self) == nil)

            let after = try await f.tenant("After")
            let copy = try #require(try await Self.setID(f, after, "BASIC"))
            #expect(copy != template)
            #expect(try await Self.codes(f, after, "BASIC") == ["docs.read"])
            let row = try await f.sql("SELECT name, description FROM auth.perm_set WHERE perm_set_id = $1", [copy]).single()
            #expect(try row.decode(String.self, column: "name") == "Basic")
            #expect(try row.decode(String?.self, column: "description") == "Reading")
            // A tenant that existed before the template does not get it.
            #expect(try await Self.setID(f, before, "BASIC") == nil)
            // The copy is the tenant's own set: it can be assigned there.
            let user = try await Self.holder(f, of: "BASIC", in: after)
            #expect(try await f.auth.hasPermission(tenant: after, user: user, code: "docs.read"))
            #expect(try await !f.auth.hasPermission(tenant: after, user: user, code: "docs.write"))
        }
    }

    @Test("changing a template later leaves the copies tenants already have alone")
    func templateChangesDoNotReachCopies() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read", "docs.write"])
            _ = try await f.auth.createPermSet(tenant: nil, code: "BASIC", name: "Basic")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "BASIC", codes: ["docs.read"])
            let tenant = try await f.tenant()

            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "BASIC", codes: ["docs.write"])
            #expect(try await Self.codes(f, nil, "BASIC") == ["docs.read", "docs.write"])
            #expect(try await Self.codes(f, tenant, "BASIC") == ["docs.read"])

            try await f.auth.removePermSetPermissions(tenant: nil, permSet: "BASIC", codes: ["docs.read"])
            #expect(try await Self.codes(f, nil, "BASIC") == ["docs.write"])
            #expect(try await Self.codes(f, tenant, "BASIC") == ["docs.read"])
        }
    }

    @Test("create_perm_set rejects an unknown tenant, a blank or malformed code and a blank name, creating nothing")
    func createRejectsBadInput() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let count = try await Self.setCount(f)
            await expectError(.unknownTenant) {
                _ = try await f.auth.createPermSet(tenant: TenantID(UUID()), code: "SET", name: "Set")
            }
            await expectError(.invalidArgument) { _ = try await f.auth.createPermSet(tenant: tenant, code: "", name: "Set") }
            await expectError(.invalidCode) { _ = try await f.auth.createPermSet(tenant: tenant, code: "two words", name: "Set") }
            await expectError(.invalidCode) { _ = try await f.auth.createPermSet(tenant: tenant, code: "-LEADING", name: "Set") }
            await expectError(.invalidArgument) { _ = try await f.auth.createPermSet(tenant: tenant, code: "SET", name: "") }
            await expectError(.invalidArgument) { _ = try await f.auth.createPermSet(tenant: nil, code: "SET", name: "   ") }
            #expect(try await Self.setCount(f) == count)
        }
    }

    @Test("a set code is unique within a tenant and among templates, but not across tenants")
    func codeUniqueness() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            let first = try await f.auth.createPermSet(tenant: a, code: "EDITORS", name: "Editors")
            await expectError(.permSetCodeTaken) {
                _ = try await f.auth.createPermSet(tenant: a, code: "EDITORS", name: "Other editors")
            }
            #expect(try await f.sql("SELECT name FROM auth.perm_set WHERE perm_set_id = $1", [first]).scalar(String.self) == "Editors")

            let inB = try await f.auth.createPermSet(tenant: b, code: "EDITORS", name: "Editors of B")
            let template = try await f.auth.createPermSet(tenant: nil, code: "EDITORS", name: "Template editors")
            #expect(Set([first, inB, template]).count == 3)
            await expectError(.permSetCodeTaken) {
                _ = try await f.auth.createPermSet(tenant: nil, code: "EDITORS", name: "Again")
            }
            #expect(try await f.sql("SELECT count(*) FROM auth.perm_set WHERE code = 'EDITORS'").scalar(Int.self) == 3)
        }
    }

    // MARK: add_perm_set_permissions

    @Test("add_perm_set_permissions adds codes; adding codes already in the set again changes nothing")
    func addIsIdempotent() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.catalogue(["users.create_user", "users.delete_user", "groups"])
            let set = try await f.auth.createPermSet(tenant: tenant, code: "ADMIN", name: "Admin")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "ADMIN", codes: ["users.create_user", "groups"])
            #expect(try await Self.codes(f, tenant, "ADMIN") == ["groups", "users.create_user"])

            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "ADMIN", codes: ["users.create_user", "groups"])
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "ADMIN",
                                                   codes: ["users.delete_user", "users.delete_user", "groups"])
            #expect(try await Self.codes(f, tenant, "ADMIN") == ["groups", "users.create_user", "users.delete_user"])
            #expect(try await f.sql("SELECT count(*) FROM auth.perm_set_permission WHERE perm_set_id = $1", [set])
                .scalar(Int.self) == 3)
        }
    }

    @Test("codes added to a set reach its holders at once, descendants included")
    func addGrantsHolders() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.catalogue(["users.create_user", "groups.create_group"])
            _ = try await f.auth.createPermSet(tenant: tenant, code: "ADMIN", name: "Admin")
            let user = try await Self.holder(f, of: "ADMIN", in: tenant)
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_user"))

            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "ADMIN", codes: ["users"])
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_user"))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "groups.create_group"))
        }
    }

    @Test("an unknown, malformed or blank code among several adds nothing; an empty list is refused")
    func addUnknownCodeAddsNothing() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.catalogue(["docs.read", "docs.write"])
            _ = try await f.auth.createPermSet(tenant: tenant, code: "DOCS", name: "Docs")
            await expectError(.unknownPermission) {
                try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "DOCS", codes: ["docs.read", "docs.raed", "docs.write"])
            }
            await expectError(.invalidPermissionCode) {
                try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "DOCS", codes: ["docs.read", "Docs.Write"])
            }
            await expectError(.invalidArgument) {
                try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "DOCS", codes: ["docs.read", ""])
            }
            await expectError(.invalidArgument) {
                try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "DOCS", codes: [])
            }
            #expect(try await Self.codes(f, tenant, "DOCS").isEmpty)
            // Unknown codes fail on templates too.
            _ = try await f.auth.createPermSet(tenant: nil, code: "TPL", name: "Template")
            await expectError(.unknownPermission) {
                try await f.auth.addPermSetPermissions(tenant: nil, permSet: "TPL", codes: ["docs.read", "nope"])
            }
            #expect(try await Self.codes(f, nil, "TPL").isEmpty)
        }
    }

    @Test("add_perm_set_permissions refuses a missing set, another tenant's set and an unknown tenant")
    func addToUnknownSet() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            try await f.catalogue(["docs.read"])
            _ = try await f.auth.createPermSet(tenant: a, code: "ONLY_A", name: "Only in A")
            await expectError(.unknownPermSet) {
                try await f.auth.addPermSetPermissions(tenant: b, permSet: "ONLY_A", codes: ["docs.read"])
            }
            await expectError(.unknownPermSet) {
                try await f.auth.addPermSetPermissions(tenant: nil, permSet: "ONLY_A", codes: ["docs.read"])
            }
            await expectError(.unknownPermSet) {
                try await f.auth.addPermSetPermissions(tenant: a, permSet: "MISSING", codes: ["docs.read"])
            }
            await expectError(.unknownTenant) {
                try await f.auth.addPermSetPermissions(tenant: TenantID(UUID()), permSet: "ONLY_A", codes: ["docs.read"])
            }
            await expectError(.invalidArgument) {
                try await f.auth.addPermSetPermissions(tenant: a, permSet: "", codes: ["docs.read"])
            }
            #expect(try await Self.codes(f, a, "ONLY_A").isEmpty)
            #expect(try await f.sql("SELECT count(*) FROM auth.perm_set_permission").scalar(Int.self) == 0)
        }
    }

    // MARK: remove_perm_set_permissions

    @Test("remove_perm_set_permissions removes exactly the codes given; codes not in the set are ignored")
    func remove() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.catalogue(["users.create_user", "groups"])
            _ = try await f.auth.createPermSet(tenant: tenant, code: "ADMIN", name: "Admin")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "ADMIN", codes: ["users", "users.create_user", "groups"])

            // Removing the parent leaves the child listed separately.
            try await f.auth.removePermSetPermissions(tenant: tenant, permSet: "ADMIN", codes: ["users"])
            #expect(try await Self.codes(f, tenant, "ADMIN") == ["groups", "users.create_user"])

            // `users` is no longer in the set: ignored, while `groups` goes.
            try await f.auth.removePermSetPermissions(tenant: tenant, permSet: "ADMIN", codes: ["users", "groups"])
            #expect(try await Self.codes(f, tenant, "ADMIN") == ["users.create_user"])
        }
    }

    @Test("codes removed from a set are revoked from its holders at once")
    func removeRevokesHolders() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.catalogue(["docs.read", "docs.write"])
            _ = try await f.auth.createPermSet(tenant: tenant, code: "DOCS", name: "Docs")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "DOCS", codes: ["docs.read", "docs.write"])
            let user = try await Self.holder(f, of: "DOCS", in: tenant)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))

            try await f.auth.removePermSetPermissions(tenant: tenant, permSet: "DOCS", codes: ["docs.read"])
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "docs.write"))
        }
    }

    @Test("remove_perm_set_permissions with an unknown or malformed code, or no codes, removes nothing")
    func removeUnknownCodeRemovesNothing() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.catalogue(["docs.read", "docs.write"])
            _ = try await f.auth.createPermSet(tenant: tenant, code: "DOCS", name: "Docs")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "DOCS", codes: ["docs.read", "docs.write"])
            await expectError(.unknownPermission) {
                try await f.auth.removePermSetPermissions(tenant: tenant, permSet: "DOCS", codes: ["docs.read", "docs.delete"])
            }
            await expectError(.invalidPermissionCode) {
                try await f.auth.removePermSetPermissions(tenant: tenant, permSet: "DOCS", codes: ["docs.read", "docs..write"])
            }
            await expectError(.invalidArgument) {
                try await f.auth.removePermSetPermissions(tenant: tenant, permSet: "DOCS", codes: [])
            }
            #expect(try await Self.codes(f, tenant, "DOCS") == ["docs.read", "docs.write"])
        }
    }

    @Test("remove_perm_set_permissions refuses another tenant's set and an unknown tenant, leaving the set as it was")
    func removeFromOtherTenant() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            try await f.catalogue(["docs.read"])
            _ = try await f.auth.createPermSet(tenant: a, code: "DOCS", name: "Docs")
            try await f.auth.addPermSetPermissions(tenant: a, permSet: "DOCS", codes: ["docs.read"])
            await expectError(.unknownPermSet) {
                try await f.auth.removePermSetPermissions(tenant: b, permSet: "DOCS", codes: ["docs.read"])
            }
            await expectError(.unknownPermSet) {
                try await f.auth.removePermSetPermissions(tenant: nil, permSet: "DOCS", codes: ["docs.read"])
            }
            await expectError(.unknownTenant) {
                try await f.auth.removePermSetPermissions(tenant: TenantID(UUID()), permSet: "DOCS", codes: ["docs.read"])
            }
            #expect(try await Self.codes(f, a, "DOCS") == ["docs.read"])
        }
    }

    // MARK: delete_perm_set

    @Test("delete_perm_set deletes an unassigned set with its codes; another tenant's assigned set of that code does not stop it")
    func deleteUnassigned() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            try await f.catalogue(["docs.read"])
            let set = try await f.auth.createPermSet(tenant: a, code: "DOCS", name: "Docs")
            try await f.auth.addPermSetPermissions(tenant: a, permSet: "DOCS", codes: ["docs.read"])
            _ = try await f.auth.createPermSet(tenant: b, code: "DOCS", name: "Docs")
            try await f.auth.addPermSetPermissions(tenant: b, permSet: "DOCS", codes: ["docs.read"])
            let holderInB = try await Self.holder(f, of: "DOCS", in: b)

            try await f.auth.deletePermSet(tenant: a, code: "DOCS")
            #expect(try await Self.setID(f, a, "DOCS") == nil)
            #expect(try await f.sql("SELECT count(*) FROM auth.perm_set_permission WHERE perm_set_id = $1", [set]).scalar(Int.self) == 0)
            #expect(try await Self.setID(f, b, "DOCS") != nil)
            #expect(try await f.auth.hasPermission(tenant: b, user: holderInB, code: "docs.read"))
        }
    }

    @Test("delete_perm_set refuses an assigned set with QS004 naming its grantees, and changes nothing")
    func deleteAssignedRefused() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.catalogue(["docs.read"])
            _ = try await f.auth.createPermSet(tenant: tenant, code: "DOCS", name: "Docs")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "DOCS", codes: ["docs.read"])
            let direct = try await Self.holder(f, of: "DOCS", in: tenant)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "READERS", name: "Readers")
            try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permSet("DOCS"))
            let username = try await f.sql("SELECT username FROM auth.user_info WHERE user_id = $1", [direct]).scalar(String.self)

            do {
                try await f.auth.deletePermSet(tenant: tenant, code: "DOCS")
                Issue.record("an assigned set was deleted")
            } catch let error as PermissionsError {
                #expect(error.code == .permSetInUse)
                #expect(error.detail?.contains("group READERS") == true, "\(error)")
                #expect(error.detail?.contains("user \(username)") == true, "\(error)")
                #expect(error.hint?.contains("_force := true") == true, "\(error)")
            }
            #expect(try await Self.setID(f, tenant, "DOCS") != nil)
            #expect(try await f.sql("SELECT count(*) FROM auth.permission_assignment WHERE tenant_id = $1", [tenant]).scalar(Int.self) == 2)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: direct, code: "docs.read"))
        }
    }

    @Test("delete_perm_set with force deletes the set with its codes and every assignment of it")
    func delete() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.catalogue(["docs.read"])
            let set = try await f.auth.createPermSet(tenant: tenant, code: "DOCS", name: "Docs")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "DOCS", codes: ["docs.read"])
            let direct = try await Self.holder(f, of: "DOCS", in: tenant)
            let viaGroup = try await f.member(of: tenant)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "READERS", name: "Readers")
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: viaGroup)
            try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permSet("DOCS"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: viaGroup, code: "docs.read"))

            try await f.auth.deletePermSet(tenant: tenant, code: "DOCS", force: true)
            #expect(try await Self.setID(f, tenant, "DOCS") == nil)
            #expect(try await f.sql("SELECT count(*) FROM auth.perm_set_permission WHERE perm_set_id = $1", [set]).scalar(Int.self) == 0)
            #expect(try await f.sql("SELECT count(*) FROM auth.permission_assignment WHERE tenant_id = $1", [tenant]).scalar(Int.self) == 0)
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: direct, code: "docs.read"))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: viaGroup, code: "docs.read"))

            // The code is free again, and the new set starts empty.
            _ = try await f.auth.createPermSet(tenant: tenant, code: "DOCS", name: "Docs again")
            #expect(try await Self.codes(f, tenant, "DOCS").isEmpty)
        }
    }

    @Test("deleting a template leaves the tenants' copies alone")
    func deleteTemplate() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            _ = try await f.auth.createPermSet(tenant: nil, code: "BASIC", name: "Basic")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "BASIC", codes: ["docs.read"])
            let tenant = try await f.tenant()

            try await f.auth.deletePermSet(tenant: nil, code: "BASIC")
            #expect(try await Self.setID(f, nil, "BASIC") == nil)
            #expect(try await Self.codes(f, tenant, "BASIC") == ["docs.read"])
            // Later tenants no longer get it.
            let later = try await f.tenant()
            #expect(try await Self.setID(f, later, "BASIC") == nil)
        }
    }

    @Test("delete_perm_set refuses a missing set, another tenant's set and an unknown tenant, deleting nothing")
    func deleteUnknown() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            _ = try await f.auth.createPermSet(tenant: a, code: "DOCS", name: "Docs")
            _ = try await f.auth.createPermSet(tenant: nil, code: "TPL", name: "Template")
            let count = try await Self.setCount(f)
            await expectError(.unknownPermSet) { try await f.auth.deletePermSet(tenant: b, code: "DOCS") }
            await expectError(.unknownPermSet) { try await f.auth.deletePermSet(tenant: nil, code: "DOCS") }
            await expectError(.unknownPermSet) { try await f.auth.deletePermSet(tenant: a, code: "MISSING") }
            await expectError(.unknownPermSet) { try await f.auth.deletePermSet(tenant: b, code: "TPL") }
            await expectError(.unknownTenant) { try await f.auth.deletePermSet(tenant: TenantID(UUID()), code: "DOCS") }
            await expectError(.invalidArgument) { try await f.auth.deletePermSet(tenant: a, code: "") }
            await expectError(.unknownPermSet) { try await f.auth.deletePermSet(tenant: b, code: "DOCS", force: true) }
            #expect(try await Self.setCount(f) == count)
            #expect(try await Self.setID(f, a, "DOCS") != nil)
        }
    }

    // MARK: duplicate_perm_set

    @Test("duplicate_perm_set copies name, description and codes into another tenant under the same code")
    func duplicateAcrossTenants() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            try await f.catalogue(["docs.read", "docs.write"])
            let source = try await f.auth.createPermSet(tenant: a, code: "STANDARD_USER", name: "Standard user", description: "Everyday work")
            try await f.auth.addPermSetPermissions(tenant: a, permSet: "STANDARD_USER", codes: ["docs.read", "docs.write"])

            let copy = try await f.auth.duplicatePermSet(from: a, to: b, code: "STANDARD_USER")
            #expect(copy != source)
            let row = try await f.sql("SELECT tenant_id, code, name, description FROM auth.perm_set WHERE perm_set_id = $1",
                                      [copy]).single()
            #expect(try row.decode(TenantID.self, column: "tenant_id") == b)
            #expect(try row.decode(String.self, column: "code") == "STANDARD_USER")
            #expect(try row.decode(String.self, column: "name") == "Standard user")
            #expect(try row.decode(String?.self, column: "description") == "Everyday work")
            #expect(try await Self.codes(f, b, "STANDARD_USER") == ["docs.read", "docs.write"])

            // The copy is independent of its source.
            try await f.auth.removePermSetPermissions(tenant: b, permSet: "STANDARD_USER", codes: ["docs.write"])
            #expect(try await Self.codes(f, a, "STANDARD_USER") == ["docs.read", "docs.write"])
            #expect(try await Self.codes(f, b, "STANDARD_USER") == ["docs.read"])
        }
    }

    @Test("duplicate_perm_set copies a template into an existing tenant and a tenant's set into the templates")
    func duplicateWithTemplates() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.catalogue(["docs.read", "reports.view"])
            _ = try await f.auth.createPermSet(tenant: nil, code: "BASIC", name: "Basic")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "BASIC", codes: ["docs.read"])
            #expect(try await Self.setID(f, tenant, "BASIC") == nil)

            let copy = try await f.auth.duplicatePermSet(from: nil, to: tenant, code: "BASIC")
            #expect(try await Self.setID(f, tenant, "BASIC") == copy)
            #expect(try await Self.codes(f, tenant, "BASIC") == ["docs.read"])

            _ = try await f.auth.createPermSet(tenant: tenant, code: "REPORTS", name: "Reports")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "REPORTS", codes: ["reports.view"])
            let template = try await f.auth.duplicatePermSet(from: tenant, to: nil, code: "REPORTS")
            #expect(try await Self.setID(f, nil, "REPORTS") == template)
            #expect(try await Self.codes(f, nil, "REPORTS") == ["reports.view"])
            // As a template it reaches tenants created afterwards.
            let later = try await f.tenant()
            #expect(try await Self.codes(f, later, "REPORTS") == ["reports.view"])
        }
    }

    @Test("duplicate_perm_set fails when the target already has the code, leaving the target's set as it was")
    func duplicateOntoTakenCode() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            try await f.catalogue(["docs.read", "docs.write"])
            _ = try await f.auth.createPermSet(tenant: a, code: "DOCS", name: "Docs of A")
            try await f.auth.addPermSetPermissions(tenant: a, permSet: "DOCS", codes: ["docs.read"])
            let existing = try await f.auth.createPermSet(tenant: b, code: "DOCS", name: "Docs of B")
            try await f.auth.addPermSetPermissions(tenant: b, permSet: "DOCS", codes: ["docs.write"])
            _ = try await f.auth.createPermSet(tenant: nil, code: "TPL", name: "Template")
            let count = try await Self.setCount(f)

            await expectError(.permSetCodeTaken) { _ = try await f.auth.duplicatePermSet(from: a, to: b, code: "DOCS") }
            await expectError(.permSetCodeTaken) { _ = try await f.auth.duplicatePermSet(from: a, to: a, code: "DOCS") }
            await expectError(.permSetCodeTaken) { _ = try await f.auth.duplicatePermSet(from: nil, to: nil, code: "TPL") }
            #expect(try await Self.setCount(f) == count)
            #expect(try await Self.setID(f, b, "DOCS") == existing)
            #expect(try await Self.codes(f, b, "DOCS") == ["docs.write"])
            #expect(try await f.sql("SELECT name FROM auth.perm_set WHERE perm_set_id = $1", [existing]).scalar(String.self) == "Docs of B")
        }
    }

    @Test("duplicate_perm_set fails for a set the source tenant does not have, or an unknown tenant, creating nothing")
    func duplicateUnknown() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            let c = try await f.tenant("C")
            _ = try await f.auth.createPermSet(tenant: c, code: "ONLY_C", name: "Only in C")
            let count = try await Self.setCount(f)
            // C's set is not A's, even though the code exists.
            await expectError(.unknownPermSet) { _ = try await f.auth.duplicatePermSet(from: a, to: b, code: "ONLY_C") }
            await expectError(.unknownPermSet) { _ = try await f.auth.duplicatePermSet(from: nil, to: b, code: "ONLY_C") }
            await expectError(.unknownPermSet) { _ = try await f.auth.duplicatePermSet(from: a, to: b, code: "MISSING") }
            await expectError(.unknownTenant) { _ = try await f.auth.duplicatePermSet(from: TenantID(UUID()), to: b, code: "ONLY_C") }
            await expectError(.unknownTenant) { _ = try await f.auth.duplicatePermSet(from: c, to: TenantID(UUID()), code: "ONLY_C") }
            await expectError(.invalidArgument) { _ = try await f.auth.duplicatePermSet(from: c, to: b, code: "") }
            #expect(try await Self.setCount(f) == count)
            #expect(try await Self.setID(f, b, "ONLY_C") == nil)
        }
    }
}
