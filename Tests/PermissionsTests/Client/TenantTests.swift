import Foundation
import Permissions
import PQ
import Testing

@Suite("Tenants")
struct TenantTests {
    // MARK: helpers reading the stored state

    struct StoredTenant: Equatable {
        var name: String
        var code: String?
        var isActive: Bool
    }

    static func stored(_ f: AuthFixture, _ tenant: TenantID) async throws -> StoredTenant? {
        let rows = try await f.sql("SELECT name, code, is_active FROM auth.tenant WHERE tenant_id = $1", [tenant])
        guard let row = rows.rows.first else { return nil }
        return StoredTenant(name: try row.decode(at: 0), code: try row.decode(at: 1), isActive: try row.decode(at: 2))
    }

    static func count(_ f: AuthFixture, _ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> Int {
        try await f.sql(sql, binds).scalar(Int.self)
    }

    static func tenantCount(_ f: AuthFixture) async throws -> Int {
        try await count(f, "SELECT count(*) FROM auth.tenant")
    }

    /// The tenant's owners (not group owners).
    static func owners(_ f: AuthFixture, _ tenant: TenantID) async throws -> Set<UserID> {
        Set(try await f.sql("SELECT user_id FROM auth.owner WHERE tenant_id = $1 AND user_group_id IS NULL", [tenant])
            .map { try $0.decode(UserID.self, at: 0) })
    }

    /// `is_active` of the membership, or nil when there is none.
    static func membership(_ f: AuthFixture, _ tenant: TenantID, _ user: UserID) async throws -> Bool? {
        try await f.sql("SELECT is_active FROM auth.tenant_user WHERE tenant_id = $1 AND user_id = $2", [tenant, user])
            .rows.first?.decode(Bool.self, at: 0)
    }

    /// Rows that a tenant holds in each tenant-scoped table.
    static func rowsHeld(by tenant: TenantID, _ f: AuthFixture) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in ["tenant_user", "owner", "user_group", "user_group_member", "perm_set",
                      "permission_assignment", "user_tenant_preference", "effective_access"] {
            counts[table] = try await count(f, "SELECT count(*) FROM auth.\(table) WHERE tenant_id = $1", [tenant])
        }
        return counts
    }

    static func auditActions(_ f: AuthFixture, _ tenant: TenantID) async throws -> [String] {
        try await f.auth.auditLog(tenant: tenant, limit: nil).map(\.action)
    }

    // MARK: create_tenant

    @Test("create_tenant stores an active tenant with its name and code, and no member when no owner is given")
    func createWithoutOwner() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.auth.createTenant(name: "Acme Corporation", code: "ACME")
            #expect(try await Self.stored(f, tenant) == StoredTenant(name: "Acme Corporation", code: "ACME", isActive: true))
            #expect(try await f.auth.tenantUsers(tenant, includeInactive: true).isEmpty)
            #expect(try await Self.owners(f, tenant).isEmpty)
            let other = try await f.auth.createTenant(name: "Other", code: "OTHER")
            #expect(other != tenant)
        }
    }

    @Test("create_tenant with an owner makes that user an active member and the only owner, passing every check")
    func createWithOwner() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["users.create_user"])
            let owner = try await f.user("owner")
            let tenant = try await f.auth.createTenant(name: "Acme", code: "ACME", owner: owner)
            #expect(try await f.auth.tenantUsers(tenant).map(\.userID) == [owner])
            #expect(try await Self.membership(f, tenant, owner) == true)
            #expect(try await Self.owners(f, tenant) == [owner])
            #expect(try await f.auth.hasPermission(tenant: tenant, user: owner, code: "users.create_user"))
        }
    }

    @Test("create_tenant gives the tenant its own copy of every template set, with the template's codes")
    func createCopiesTemplates() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read", "docs.write"])
            let template = try await f.auth.createPermSet(tenant: nil, code: "STANDARD", name: "Standard", description: "Everyone")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "STANDARD", codes: ["docs.read", "docs.write"])
            _ = try await f.auth.createPermSet(tenant: nil, code: "EMPTY", name: "Empty")

            let tenant = try await f.tenant()
            let copies = try await f.sql("""
                SELECT ps.perm_set_id, ps.code, ps.name, ps.description,
                       ARRAY(SELECT p.code::text FROM auth.perm_set_permission sp
                               JOIN auth.permission p USING (permission_id)
                              WHERE sp.perm_set_id = ps.perm_set_id ORDER BY 1) AS codes
                FROM auth.perm_set ps WHERE ps.tenant_id = $1 ORDER BY ps.code
                """, [tenant]).rows
            #expect(copies.count == 2)
            #expect(try copies.map { try $0.decode(String.self, at: 1) } == ["EMPTY", "STANDARD"])
            let standard = try #require(copies.last)
            #expect(try standard.decode(PermSetID.self, at: 0) != template)
            #expect(try standard.decode(String.self, at: 2) == "Standard")
            #expect(try standard.decode(String?.self, at: 3) == "Everyone")
            #expect(try standard.decode([String].self, at: 4) == ["docs.read", "docs.write"])

            // The copy is the tenant's own: it can be assigned there, and changing it leaves the template alone.
            let member = try await f.member(of: tenant)
            try await f.auth.assignPermission(tenant: tenant, to: .user(member), grant: .permSet("STANDARD"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: member, code: "docs.write"))
            try await f.auth.removePermSetPermissions(tenant: tenant, permSet: "STANDARD", codes: ["docs.write"])
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: member, code: "docs.write"))
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.perm_set_permission WHERE perm_set_id = $1",
                                         [template]) == 2)
        }
    }

    @Test("create_tenant refuses a blank name or a missing code and creates nothing")
    func createMissingArguments() async throws {
        try await AuthFixture.run { f in
            await expectError(.invalidArgument) { _ = try await f.auth.createTenant(name: "", code: "ACME") }
            await expectError(.invalidArgument) { _ = try await f.auth.createTenant(name: "  ", code: "ACME") }
            await expectError(.invalidArgument) { _ = try await f.auth.createTenant(name: "Acme", code: "") }
            let tenants = try await Self.tenantCount(f)
            #expect(tenants == 0)
        }
    }

    @Test("create_tenant refuses a malformed code and accepts codes such as ACME-INTL")
    func createMalformedCode() async throws {
        try await AuthFixture.run { f in
            for code in ["ACME INTL", "-ACME", "_ACME", "AC.ME", "ACMÉ", String(repeating: "A", count: 64)] {
                await expectError(.invalidCode) { _ = try await f.auth.createTenant(name: "Acme", code: code) }
            }
            #expect(try await Self.tenantCount(f) == 0)
            let intl = try await f.auth.createTenant(name: "Acme", code: "ACME-INTL")
            let long = try await f.auth.createTenant(name: "Long", code: "a_" + String(repeating: "9", count: 61))
            #expect(try await Self.stored(f, intl)?.code == "ACME-INTL")
            #expect(try await Self.stored(f, long)?.code?.count == 63)
        }
    }

    @Test("create_tenant refuses a code already in use (codes are case-sensitive) and creates nothing")
    func createDuplicateCode() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let acme = try await f.auth.createTenant(name: "Acme", code: "ACME")
            await expectError(.tenantCodeTaken) { _ = try await f.auth.createTenant(name: "Acme 2", code: "ACME", owner: owner) }
            #expect(try await Self.tenantCount(f) == 1)
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.tenant_user WHERE user_id = $1", [owner]) == 0)
            #expect(try await Self.stored(f, acme)?.name == "Acme")
            _ = try await f.auth.createTenant(name: "lower acme", code: "acme")
            #expect(try await Self.tenantCount(f) == 2)
        }
    }

    @Test("create_tenant with an unknown owner fails and creates no tenant")
    func createUnknownOwner() async throws {
        try await AuthFixture.run { f in
            await expectError(.unknownUser) {
                _ = try await f.auth.createTenant(name: "Acme", code: "ACME", owner: UserID(UUID()))
            }
            let tenants = try await Self.tenantCount(f)
            #expect(tenants == 0)
        }
    }

    // MARK: update_tenant

    @Test("update_tenant renames and recodes a tenant, leaving nil fields unchanged")
    func update() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.auth.createTenant(name: "Acme Corporation", code: "ACME")
            try await f.auth.updateTenant(tenant, name: "Acme Corp International", code: "ACME-INTL")
            #expect(try await Self.stored(f, tenant)
                    == StoredTenant(name: "Acme Corp International", code: "ACME-INTL", isActive: true))
            try await f.auth.updateTenant(tenant, name: "Acme Intl")
            #expect(try await Self.stored(f, tenant)?.code == "ACME-INTL")
            try await f.auth.updateTenant(tenant, code: "AI")
            #expect(try await Self.stored(f, tenant) == StoredTenant(name: "Acme Intl", code: "AI", isActive: true))
            try await f.auth.updateTenant(tenant, code: "AI")  // its own code is not "taken"
        }
    }

    @Test("update_tenant refuses the code of another tenant and changes nothing")
    func updateTakenCode() async throws {
        try await AuthFixture.run { f in
            _ = try await f.auth.createTenant(name: "Globex", code: "GLOBEX")
            let acme = try await f.auth.createTenant(name: "Acme", code: "ACME")
            await expectError(.tenantCodeTaken) { try await f.auth.updateTenant(acme, name: "Renamed", code: "GLOBEX") }
            #expect(try await Self.stored(f, acme) == StoredTenant(name: "Acme", code: "ACME", isActive: true))
        }
    }

    @Test("update_tenant refuses a blank name or a malformed code and changes nothing")
    func updateInvalid() async throws {
        try await AuthFixture.run { f in
            let acme = try await f.auth.createTenant(name: "Acme", code: "ACME")
            await expectError(.invalidArgument) { try await f.auth.updateTenant(acme, name: " ", code: "NEW") }
            await expectError(.invalidCode) { try await f.auth.updateTenant(acme, name: "New", code: "NEW CODE") }
            await expectError(.invalidArgument) { try await f.auth.updateTenant(acme, code: "") }
            #expect(try await Self.stored(f, acme) == StoredTenant(name: "Acme", code: "ACME", isActive: true))
        }
    }

    @Test("update_tenant of an unknown tenant fails with unknownTenant")
    func updateUnknown() async throws {
        try await AuthFixture.run { f in
            await expectError(.unknownTenant) { try await f.auth.updateTenant(TenantID(UUID()), name: "X") }
            let tenants = try await Self.tenantCount(f)
            #expect(tenants == 0)
        }
    }

    // MARK: deactivate_tenant / activate_tenant

    @Test("deactivate_tenant denies every check in it, the owner's included, and in no other tenant")
    func deactivateDenies() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let other = try await f.tenant(owner: owner)
            let member = try await f.member(of: tenant)
            try await f.auth.assignPermission(tenant: tenant, to: .user(member), grant: .permission("docs.read"))

            try await f.auth.deactivateTenant(tenant)

            #expect(try await Self.stored(f, tenant)?.isActive == false)
            for user in [owner, member] {
                #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
                #expect(try await !f.auth.checkTenantAccess(tenant: tenant, user: user))
            }
            #expect(try await Self.stored(f, other)?.isActive == true)
            #expect(try await f.auth.hasPermission(tenant: other, user: owner, code: "docs.read"))
        }
    }

    @Test("activate_tenant restores access; both calls are harmless when repeated")
    func activateRestores() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let member = try await f.member(of: tenant)
            try await f.auth.assignPermission(tenant: tenant, to: .user(member), grant: .permission("docs.read"))

            try await f.auth.deactivateTenant(tenant)
            try await f.auth.deactivateTenant(tenant)
            try await f.auth.activateTenant(tenant)
            try await f.auth.activateTenant(tenant)

            #expect(try await Self.stored(f, tenant)?.isActive == true)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: member, code: "docs.read"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: owner, code: "docs.read"))
            #expect(try await Self.auditActions(f, tenant).filter { $0 == "tenant.update" }.count == 2)
        }
    }

    @Test("deactivate_tenant and activate_tenant of an unknown tenant fail with unknownTenant")
    func activationUnknown() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            await expectError(.unknownTenant) { try await f.auth.deactivateTenant(TenantID(UUID())) }
            await expectError(.unknownTenant) { try await f.auth.activateTenant(TenantID(UUID())) }
            #expect(try await Self.stored(f, tenant)?.isActive == true)
        }
    }

    // MARK: delete_tenant

    @Test("delete_tenant removes the tenant with everything it holds and keeps its audit history")
    func deleteRemovesEverything() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let member = try await f.member(of: tenant)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: member)
            try await f.auth.assignGroupOwner(tenant: tenant, group: group, user: member)
            let set = try await f.auth.createPermSet(tenant: tenant, code: "READERS", name: "Readers")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "READERS", codes: ["docs.read"])
            try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permSet("READERS"))
            try await f.auth.assignPermission(tenant: tenant, to: .user(member), grant: .permission("docs.read"))
            try await f.auth.setUserPreference(user: member, tenant: tenant, key: "theme", value: "dark")
            #expect(try await Self.rowsHeld(by: tenant, f).values.allSatisfy { $0 > 0 })

            try await f.auth.deleteTenant(tenant)

            #expect(try await Self.stored(f, tenant) == nil)
            #expect(try await Self.rowsHeld(by: tenant, f).values.allSatisfy { $0 == 0 })
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.perm_set_permission WHERE perm_set_id = $1", [set]) == 0)
            // Users are global: they stay.
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.user_info WHERE user_id IN ($1, $2)",
                                         [owner, member]) == 2)
            let actions = try await Self.auditActions(f, tenant)
            #expect(actions.contains("tenant.delete"))
            #expect(actions.contains("tenant.insert"))
        }
    }

    @Test("delete_tenant records every row it deletes under the tenant, the contents of its sets included")
    func deleteIsAudited() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read", "docs.write"])
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let member = try await f.member(of: tenant)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: member)
            _ = try await f.auth.createPermSet(tenant: tenant, code: "READERS", name: "Readers")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "READERS", codes: ["docs.read", "docs.write"])
            try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permSet("READERS"))
            try await f.auth.setUserPreference(user: member, tenant: tenant, key: "theme", value: "dark")
            let lastBefore = try await f.sql("SELECT max(audit_id) FROM auth.audit_log").scalar(Int.self)

            try await f.auth.deleteTenant(tenant)

            let deletions = try await f.sql("""
                SELECT tenant_id, action FROM auth.audit_log WHERE audit_id > $1 ORDER BY audit_id
                """, [lastBefore]).map { (try $0.decode(TenantID?.self, at: 0), try $0.decode(String.self, at: 1)) }
            #expect(deletions.allSatisfy { $0.0 == tenant }, "\(deletions)")
            let counts = Dictionary(deletions.map { ($0.1, 1) }, uniquingKeysWith: +)
            #expect(counts == ["tenant.delete": 1, "tenant_user.delete": 2, "owner.delete": 1, "user_group.delete": 1,
                               "user_group_member.delete": 1, "perm_set.delete": 1, "perm_set_permission.delete": 2,
                               "permission_assignment.delete": 1, "user_tenant_preference.delete": 1])
        }
    }

    @Test("delete_tenant leaves other tenants, and its members' access there, untouched")
    func deleteKeepsOtherTenants() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let user = try await f.user("shared")
            let doomed = try await f.tenant(owner: user)
            let kept = try await f.tenant()
            try await f.auth.addUserToTenant(kept, user: user)
            try await f.auth.assignPermission(tenant: kept, to: .user(user), grant: .permission("docs.read"))
            _ = try await f.auth.createUserGroup(tenant: kept, code: "STAFF", name: "Staff")
            let before = try await Self.rowsHeld(by: kept, f)

            try await f.auth.deleteTenant(doomed)

            #expect(try await Self.rowsHeld(by: kept, f) == before)
            #expect(try await f.auth.hasPermission(tenant: kept, user: user, code: "docs.read"))
            #expect(try await Self.stored(f, kept) != nil)
        }
    }

    @Test("delete_tenant of an unknown tenant fails with unknownTenant")
    func deleteUnknown() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            await expectError(.unknownTenant) { try await f.auth.deleteTenant(TenantID(UUID())) }
            #expect(try await Self.tenantCount(f) == 1)
            #expect(try await Self.stored(f, tenant) != nil)
        }
    }

    // MARK: get_tenant_by_code

    @Test("get_tenant_by_code finds a tenant by its exact code, active or not, for the application role too")
    func byCode() async throws {
        try await AuthFixture.run { f in
            let acme = try await f.auth.createTenant(name: "Acme", code: "ACME")
            let globex = try await f.auth.createTenant(name: "Globex", code: "acme-2")
            try await f.auth.deactivateTenant(globex)
            let (_, app) = try await f.login(memberOf: "auth_app")
            defer { Task { await app.close() } }
            for auth in [f.auth, AuthClient(app)] {
                let found = try await auth.tenant(code: "ACME")
                #expect(found.id == acme)
                #expect(found.name == "Acme")
                #expect(found.code == "ACME")
                #expect(found.isActive)
                let inactive = try await auth.tenant(code: "acme-2")
                #expect(inactive.id == globex)
                #expect(!inactive.isActive)
            }
        }
    }

    @Test("get_tenant_by_code: another case, an unknown or deleted code is unknownTenant; blank or malformed codes are refused")
    func byCodeRefusals() async throws {
        try await AuthFixture.run { f in
            let acme = try await f.auth.createTenant(name: "Acme", code: "ACME")
            await expectError(.unknownTenant) { _ = try await f.auth.tenant(code: "acme") }
            await expectError(.unknownTenant) { _ = try await f.auth.tenant(code: "GLOBEX") }
            await expectError(.invalidArgument) { _ = try await f.auth.tenant(code: "") }
            await expectError(.invalidArgument) { _ = try await f.auth.tenant(code: " \t") }
            await expectError(.invalidCode) { _ = try await f.auth.tenant(code: "AC ME") }
            await expectError(.invalidCode) { _ = try await f.auth.tenant(code: "' OR ''='") }
            try await f.auth.updateTenant(acme, code: "ACME-NEW")
            await expectError(.unknownTenant) { _ = try await f.auth.tenant(code: "ACME") }
            #expect(try await f.auth.tenant(code: "ACME-NEW").id == acme)
            try await f.auth.deleteTenant(acme)
            await expectError(.unknownTenant) { _ = try await f.auth.tenant(code: "ACME-NEW") }
        }
    }

    // MARK: add_user_to_tenant

    @Test("add_user_to_tenant makes the user an active member of that tenant only")
    func addMember() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let other = try await f.tenant()
            let user = try await f.user("alice")
            try await f.auth.addUserToTenant(tenant, user: user)
            #expect(try await Self.membership(f, tenant, user) == true)
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: user))
            #expect(try await f.auth.tenantUsers(tenant).map(\.userID) == [user])
            #expect(try await Self.membership(f, other, user) == nil)
            #expect(try await !f.auth.checkTenantAccess(tenant: other, user: user))
        }
    }

    @Test("add_user_to_tenant refuses a user who is already an active member")
    func addExistingMember() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            await expectError(.alreadyTenantMember) { try await f.auth.addUserToTenant(tenant, user: user) }
            #expect(try await Self.membership(f, tenant, user) == true)
        }
    }

    @Test("add_user_to_tenant reactivates an inactive membership, keeping joined_at and the earlier grants")
    func addReactivates() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("docs.read"))
            try await f.sql("UPDATE auth.tenant_user SET joined_at = '2020-01-02 03:04:05+00' WHERE user_id = $1", [user])
            try await f.auth.removeUserFromTenant(tenant, user: user)
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))

            try await f.auth.addUserToTenant(tenant, user: user)

            #expect(try await Self.membership(f, tenant, user) == true)
            let joined = try await f.sql(
                "SELECT joined_at = '2020-01-02 03:04:05+00' FROM auth.tenant_user WHERE tenant_id = $1 AND user_id = $2",
                [tenant, user]).scalar(Bool.self)
            #expect(joined)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
        }
    }

    @Test("add_user_to_tenant with an unknown tenant or user fails and adds nothing")
    func addUnknown() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.user()
            await expectError(.unknownTenant) { try await f.auth.addUserToTenant(TenantID(UUID()), user: user) }
            await expectError(.unknownUser) { try await f.auth.addUserToTenant(tenant, user: UserID(UUID())) }
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.tenant_user") == 0)
        }
    }

    // MARK: remove_user_from_tenant

    @Test("soft removal deactivates the membership and denies checks, but keeps groups, assignments and preferences")
    func removeSoft() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("docs.read"))
            try await f.auth.setUserPreference(user: user, tenant: tenant, key: "theme", value: "dark")

            try await f.auth.removeUserFromTenant(tenant, user: user)

            #expect(try await Self.membership(f, tenant, user) == false)
            #expect(try await !f.auth.checkTenantAccess(tenant: tenant, user: user))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.user_group_member WHERE user_id = $1", [user]) == 1)
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.permission_assignment WHERE user_id = $1", [user]) == 1)
            #expect(try await f.auth.userPreferences(user: user, tenant: tenant) == ["theme": "dark"])
        }
    }

    @Test("hard removal deletes the membership with its groups, group ownerships, assignments and preferences there only")
    func removeHard() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let user = try await f.user("leaving")
            var groups: [TenantID: UserGroupID] = [:]
            let tenant = try await f.tenant()
            let other = try await f.tenant()
            for t in [tenant, other] {
                try await f.auth.addUserToTenant(t, user: user)
                let group = try await f.auth.createUserGroup(tenant: t, code: "STAFF", name: "Staff")
                groups[t] = group
                try await f.auth.addUserToGroup(tenant: t, group: group, user: user)
                try await f.auth.assignGroupOwner(tenant: t, group: group, user: user)
                try await f.auth.assignPermission(tenant: t, to: .user(user), grant: .permission("docs.read"))
                try await f.auth.setUserPreference(user: user, tenant: t, key: "theme", value: "dark")
            }
            let otherBefore = try await Self.rowsHeld(by: other, f)

            try await f.auth.removeUserFromTenant(tenant, user: user, hard: true)

            #expect(try await Self.membership(f, tenant, user) == nil)
            #expect(try await Self.rowsHeld(by: tenant, f)
                    == ["tenant_user": 0, "owner": 0, "user_group": 1, "user_group_member": 0, "perm_set": 0,
                        "permission_assignment": 0, "user_tenant_preference": 0, "effective_access": 0])
            #expect(try await !f.auth.isGroupOwner(tenant: tenant, group: groups[tenant]!, user: user))
            // The same user's membership of another tenant is untouched.
            #expect(try await Self.rowsHeld(by: other, f) == otherBefore)
            #expect(try await f.auth.hasPermission(tenant: other, user: user, code: "docs.read"))
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.user_info WHERE user_id = $1", [user]) == 1)
        }
    }

    @Test("removing a tenant owner is refused, softly or hard, and changes nothing")
    func removeOwnerRefused() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            await expectError(.userIsTenantOwner) { try await f.auth.removeUserFromTenant(tenant, user: owner) }
            await expectError(.userIsTenantOwner) { try await f.auth.removeUserFromTenant(tenant, user: owner, hard: true) }
            #expect(try await Self.membership(f, tenant, owner) == true)
            #expect(try await Self.owners(f, tenant) == [owner])
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: owner))
        }
    }

    @Test("a former owner can be removed once ownership has been transferred")
    func removeFormerOwner() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let successor = try await f.user("successor")
            let tenant = try await f.tenant(owner: owner)
            try await f.auth.transferTenantOwnership(tenant, to: successor)
            try await f.auth.removeUserFromTenant(tenant, user: owner, hard: true)
            #expect(try await Self.membership(f, tenant, owner) == nil)
            #expect(try await Self.owners(f, tenant) == [successor])
        }
    }

    @Test("removing a user who is not a member fails, even when they are a member of another tenant")
    func removeNonMember() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let other = try await f.tenant()
            let outsider = try await f.member(of: other)
            await expectError(.notTenantMember) { try await f.auth.removeUserFromTenant(tenant, user: outsider) }
            await expectError(.notTenantMember) { try await f.auth.removeUserFromTenant(tenant, user: outsider, hard: true) }
            #expect(try await Self.membership(f, other, outsider) == true)
            #expect(try await Self.membership(f, tenant, outsider) == nil)
        }
    }

    @Test("remove_user_from_tenant with an unknown tenant or user fails and changes nothing")
    func removeUnknown() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            await expectError(.unknownTenant) { try await f.auth.removeUserFromTenant(TenantID(UUID()), user: user) }
            await expectError(.unknownUser) { try await f.auth.removeUserFromTenant(tenant, user: UserID(UUID())) }
            #expect(try await Self.membership(f, tenant, user) == true)
        }
    }

    // MARK: get_tenant_users

    @Test("get_tenant_users lists the tenant's active members with their details, ordered by display name")
    func listMembers() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let other = try await f.tenant()
            let carol = try await f.auth.createUser(username: "carol", email: "carol@example.com", displayName: "Carol")
            let alice = try await f.auth.createUser(username: "alice", email: "alice@example.com", displayName: "Alice")
            let bob = try await f.auth.createUser(username: "bob", displayName: "Bob")
            for user in [carol, alice, bob] { try await f.auth.addUserToTenant(tenant, user: user) }
            _ = try await f.member(of: other, "stranger")

            let users = try await f.auth.tenantUsers(tenant)
            #expect(users.map(\.userID) == [alice, bob, carol])
            #expect(users.map(\.username) == ["alice", "bob", "carol"])
            #expect(users.map(\.email) == ["alice@example.com", nil, "carol@example.com"])
            #expect(users.map(\.displayName) == ["Alice", "Bob", "Carol"])
            #expect(users.allSatisfy { $0.isActive })
            let joined = try await f.sql(
                "SELECT joined_at FROM auth.tenant_user WHERE tenant_id = $1 AND user_id = $2", [tenant, alice])
                .scalar(Date.self)
            #expect(users[0].joinedAt == joined)
        }
    }

    @Test("get_tenant_users leaves out inactive memberships and inactive users unless asked to include them")
    func listInactive() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let active = try await f.member(of: tenant, "anna")
            let removed = try await f.member(of: tenant, "bert")
            let deactivated = try await f.member(of: tenant, "cora")
            try await f.auth.removeUserFromTenant(tenant, user: removed)
            try await f.auth.deactivateUser(deactivated)

            #expect(try await f.auth.tenantUsers(tenant).map(\.userID) == [active])
            let all = try await f.auth.tenantUsers(tenant, includeInactive: true)
            #expect(all.map(\.userID) == [active, removed, deactivated])
            #expect(all.map(\.isActive) == [true, false, false])
        }
    }

    @Test("get_tenant_users of an unknown tenant fails with unknownTenant")
    func listUnknown() async throws {
        try await AuthFixture.run { f in
            await expectError(.unknownTenant) { _ = try await f.auth.tenantUsers(TenantID(UUID())) }
            await expectError(.unknownTenant) { _ = try await f.auth.tenantUsers(TenantID(UUID()), includeInactive: true) }
        }
    }

    // MARK: assign_tenant_owner

    @Test("assign_tenant_owner makes a non-member an active member and an owner who passes every check")
    func assignOwnerToNonMember() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["billing.refund"])
            let tenant = try await f.tenant()
            let user = try await f.user("boss")
            #expect(try await !f.auth.checkTenantAccess(tenant: tenant, user: user))
            try await f.auth.assignTenantOwner(tenant, user: user)
            #expect(try await Self.membership(f, tenant, user) == true)
            #expect(try await Self.owners(f, tenant) == [user])
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "billing.refund"))
        }
    }

    @Test("a tenant can have several owners")
    func assignSecondOwner() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["billing.refund"])
            let first = try await f.user("first")
            let tenant = try await f.tenant(owner: first)
            let second = try await f.member(of: tenant, "second")
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: second, code: "billing.refund"))
            try await f.auth.assignTenantOwner(tenant, user: second)
            #expect(try await Self.owners(f, tenant) == [first, second])
            #expect(try await f.auth.hasPermission(tenant: tenant, user: second, code: "billing.refund"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: first, code: "billing.refund"))
        }
    }

    @Test("assign_tenant_owner reactivates an inactive membership")
    func assignOwnerReactivates() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.auth.removeUserFromTenant(tenant, user: user)
            try await f.auth.assignTenantOwner(tenant, user: user)
            #expect(try await Self.membership(f, tenant, user) == true)
            #expect(try await Self.owners(f, tenant) == [user])
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: user))
        }
    }

    @Test("assign_tenant_owner of a current owner changes nothing, but reactivates the owner's inactive membership")
    func assignOwnerTwice() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["billing.refund"])
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let audit = try await Self.count(f, "SELECT count(*) FROM auth.audit_log")
            try await f.auth.assignTenantOwner(tenant, user: owner)
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.owner WHERE tenant_id = $1", [tenant]) == 1)
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.audit_log") == audit)

            try await f.sql("UPDATE auth.tenant_user SET is_active = false WHERE tenant_id = $1 AND user_id = $2", [tenant, owner])
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: owner, code: "billing.refund"))
            try await f.auth.assignTenantOwner(tenant, user: owner)
            #expect(try await Self.membership(f, tenant, owner) == true)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: owner, code: "billing.refund"))
            #expect(try await Self.owners(f, tenant) == [owner])
        }
    }

    @Test("assign_tenant_owner with an unknown tenant or user fails and changes nothing")
    func assignOwnerUnknown() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.user()
            await expectError(.unknownTenant) { try await f.auth.assignTenantOwner(TenantID(UUID()), user: user) }
            await expectError(.unknownUser) { try await f.auth.assignTenantOwner(tenant, user: UserID(UUID())) }
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.owner") == 0)
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.tenant_user") == 0)
        }
    }

    @Test("owning one tenant grants nothing in another")
    func ownerIsolation() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["billing.refund"])
            let owner = try await f.user("owner")
            let owned = try await f.tenant(owner: owner)
            let other = try await f.tenant()
            try await f.auth.addUserToTenant(other, user: owner)
            #expect(try await f.auth.hasPermission(tenant: owned, user: owner, code: "billing.refund"))
            #expect(try await !f.auth.hasPermission(tenant: other, user: owner, code: "billing.refund"))
            #expect(try await Self.owners(f, other).isEmpty)
        }
    }

    // MARK: transfer_tenant_ownership

    @Test("transfer makes the new user the only owner; the former owner stays a member without owner rights")
    func transfer() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["billing.refund"])
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let successor = try await f.member(of: tenant, "successor")

            try await f.auth.transferTenantOwnership(tenant, to: successor)

            #expect(try await Self.owners(f, tenant) == [successor])
            #expect(try await f.auth.hasPermission(tenant: tenant, user: successor, code: "billing.refund"))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: owner, code: "billing.refund"))
            #expect(try await Self.membership(f, tenant, owner) == true)
        }
    }

    @Test("transfer replaces every owner when there were several")
    func transferFromSeveral() async throws {
        try await AuthFixture.run { f in
            let first = try await f.user("first")
            let tenant = try await f.tenant(owner: first)
            let second = try await f.user("second")
            try await f.auth.assignTenantOwner(tenant, user: second)
            let third = try await f.user("third")

            try await f.auth.transferTenantOwnership(tenant, to: third)

            #expect(try await Self.owners(f, tenant) == [third])
            #expect(try await Self.membership(f, tenant, first) == true)
            #expect(try await Self.membership(f, tenant, second) == true)
        }
    }

    @Test("transfer to a non-member or to an inactive member makes them an active member")
    func transferAddsMembership() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let outsider = try await f.user("outsider")
            try await f.auth.transferTenantOwnership(tenant, to: outsider)
            #expect(try await Self.membership(f, tenant, outsider) == true)
            #expect(try await Self.owners(f, tenant) == [outsider])

            let dormant = try await f.member(of: tenant, "dormant")
            try await f.auth.removeUserFromTenant(tenant, user: dormant)
            try await f.auth.transferTenantOwnership(tenant, to: dormant)
            #expect(try await Self.membership(f, tenant, dormant) == true)
            #expect(try await Self.owners(f, tenant) == [dormant])
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: dormant))
        }
    }

    @Test("transfer keeps group ownerships, and transferring to the current owner changes nothing")
    func transferKeepsGroupOwners() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            try await f.auth.assignGroupOwner(tenant: tenant, group: group, user: owner)
            let successor = try await f.member(of: tenant, "successor")

            try await f.auth.transferTenantOwnership(tenant, to: owner)
            #expect(try await Self.owners(f, tenant) == [owner])

            try await f.auth.transferTenantOwnership(tenant, to: successor)
            #expect(try await Self.owners(f, tenant) == [successor])
            #expect(try await f.auth.isGroupOwner(tenant: tenant, group: group, user: owner))
        }
    }

    @Test("transfer with an unknown tenant or user fails and keeps the owner")
    func transferUnknown() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let user = try await f.user()
            await expectError(.unknownTenant) { try await f.auth.transferTenantOwnership(TenantID(UUID()), to: user) }
            await expectError(.unknownUser) { try await f.auth.transferTenantOwnership(tenant, to: UserID(UUID())) }
            #expect(try await Self.owners(f, tenant) == [owner])
            #expect(try await Self.membership(f, tenant, user) == nil)
        }
    }

    // MARK: get_tenant_statistics

    @Test("get_tenant_statistics counts the active memberships, groups, sets and assignments of that tenant only")
    func statistics() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let owner = try await f.user("owner")
            let tenant = try await f.auth.createTenant(name: "Acme", code: "ACME", owner: owner)
            let member = try await f.member(of: tenant)
            let leaver = try await f.member(of: tenant)
            try await f.auth.removeUserFromTenant(tenant, user: leaver)
            let staff = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            let retired = try await f.auth.createUserGroup(tenant: tenant, code: "RETIRED", name: "Retired")
            try await f.auth.deactivateUserGroup(tenant: tenant, group: retired)
            _ = try await f.auth.createPermSet(tenant: tenant, code: "READERS", name: "Readers")
            try await f.auth.assignPermission(tenant: tenant, to: .group(staff), grant: .permSet("READERS"))
            try await f.auth.assignPermission(tenant: tenant, to: .user(member), grant: .permission("docs.read"))

            // Another tenant's objects must not be counted.
            let other = try await f.tenant(owner: member)
            let otherGroup = try await f.auth.createUserGroup(tenant: other, code: "STAFF", name: "Staff")
            _ = try await f.auth.createPermSet(tenant: other, code: "READERS", name: "Readers")
            try await f.auth.assignPermission(tenant: other, to: .group(otherGroup), grant: .permSet("READERS"))

            let stats = try await f.auth.tenantStatistics(tenant)
            #expect(stats.tenantName == "Acme")
            #expect(stats.userCount == 2)
            #expect(stats.groupCount == 2)
            #expect(stats.permissionSetCount == 1)
            #expect(stats.assignmentCount == 2)

            let otherStats = try await f.auth.tenantStatistics(other)
            #expect(otherStats.userCount == 1)
            #expect(otherStats.groupCount == 1)
            #expect(otherStats.permissionSetCount == 1)
            #expect(otherStats.assignmentCount == 1)
        }
    }

    @Test("get_tenant_statistics counts the template copies a new tenant received")
    func statisticsCountTemplateCopies() async throws {
        try await AuthFixture.run { f in
            _ = try await f.auth.createPermSet(tenant: nil, code: "STANDARD", name: "Standard")
            let tenant = try await f.tenant()
            let stats = try await f.auth.tenantStatistics(tenant)
            #expect(stats.permissionSetCount == 1)
            #expect(stats.userCount == 0)
        }
    }

    @Test("get_tenant_statistics of an unknown tenant fails with unknownTenant")
    func statisticsUnknown() async throws {
        try await AuthFixture.run { f in
            await expectError(.unknownTenant) { _ = try await f.auth.tenantStatistics(TenantID(UUID())) }
        }
    }
}
