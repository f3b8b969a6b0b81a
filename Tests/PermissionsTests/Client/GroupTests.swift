import Foundation
import Permissions
import PQ
import Testing

@Suite("User groups")
struct GroupTests {
    // MARK: Reading state back

    static func isMember(_ f: AuthFixture, _ group: UserGroupID, _ user: UserID) async throws -> Bool {
        try await f.sql("SELECT EXISTS (SELECT FROM auth.user_group_member WHERE user_group_id = $1 AND user_id = $2)",
                        [group, user]).scalar(Bool.self)
    }

    static func isActive(_ f: AuthFixture, _ group: UserGroupID) async throws -> Bool? {
        try await f.sql("SELECT is_active FROM auth.user_group WHERE user_group_id = $1", [group])
            .rows.first?.decode(Bool.self, at: 0)
    }

    static func count(_ f: AuthFixture, _ table: String) async throws -> Int {
        try await f.sql("SELECT count(*) FROM auth.\(table)").scalar(Int.self)
    }

    /// A group of `tenant` that grants `docs.read`.
    static func readers(_ f: AuthFixture, in tenant: TenantID, code: String = "READERS") async throws -> UserGroupID {
        try await f.catalogue(["docs.read"])
        let group = try await f.auth.createUserGroup(tenant: tenant, code: code, name: "Readers")
        try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permission("docs.read"))
        return group
    }

    // MARK: create_user_group

    @Test("create_user_group creates an active, empty group in the tenant")
    func create() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "ADMINS", name: "Administrators")
            let row = try await f.sql("SELECT tenant_id, code, name, is_active FROM auth.user_group WHERE user_group_id = $1",
                                      [group]).single()
            #expect(try row.decode(TenantID.self, column: "tenant_id") == tenant)
            #expect(try row.decode(String.self, column: "code") == "ADMINS")
            #expect(try row.decode(String.self, column: "name") == "Administrators")
            #expect(try row.decode(Bool.self, column: "is_active"))
            #expect(try await f.sql("SELECT count(*) FROM auth.user_group_member WHERE user_group_id = $1", [group])
                .scalar(Int.self) == 0)
        }
    }

    @Test("create_user_group rejects an unknown tenant, a blank or malformed code and a blank name, creating nothing")
    func createRejectsBadInput() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            await expectError(.unknownTenant) {
                _ = try await f.auth.createUserGroup(tenant: TenantID(UUID()), code: "ADMINS", name: "Administrators")
            }
            await expectError(.invalidArgument) { _ = try await f.auth.createUserGroup(tenant: tenant, code: "", name: "Admins") }
            await expectError(.invalidCode) { _ = try await f.auth.createUserGroup(tenant: tenant, code: "ad mins", name: "Admins") }
            await expectError(.invalidCode) {
                _ = try await f.auth.createUserGroup(tenant: tenant, code: String(repeating: "A", count: 64), name: "Admins")
            }
            await expectError(.invalidArgument) { _ = try await f.auth.createUserGroup(tenant: tenant, code: "ADMINS", name: " ") }
            #expect(try await Self.count(f, "user_group") == 0)
        }
    }

    @Test("a group code is unique within a tenant but may repeat in another tenant")
    func codeUniqueness() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            let first = try await f.auth.createUserGroup(tenant: a, code: "ADMINS", name: "Administrators")
            await expectError(.userGroupCodeTaken) {
                _ = try await f.auth.createUserGroup(tenant: a, code: "ADMINS", name: "Other administrators")
            }
            #expect(try await f.sql("SELECT name FROM auth.user_group WHERE user_group_id = $1", [first])
                .scalar(String.self) == "Administrators")
            let inB = try await f.auth.createUserGroup(tenant: b, code: "ADMINS", name: "Administrators of B")
            #expect(inB != first)
            #expect(try await Self.count(f, "user_group") == 2)
        }
    }

    // MARK: add_user_to_group / remove_user_from_group

    @Test("add_user_to_group makes a tenant member a group member who receives the group's grants")
    func addMember() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let group = try await Self.readers(f, in: tenant)
            let user = try await f.member(of: tenant)
            let other = try await f.member(of: tenant)
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))

            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            #expect(try await Self.isMember(f, group, user))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
            #expect(try await !Self.isMember(f, group, other))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: other, code: "docs.read"))
        }
    }

    @Test("adding a user to a group twice fails and keeps one membership")
    func addTwice() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "TEAM", name: "Team")
            let user = try await f.member(of: tenant)
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            await expectError(.alreadyGroupMember) { try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user) }
            #expect(try await Self.count(f, "user_group_member") == 1)
        }
    }

    @Test("only members of the group's tenant can join it")
    func addNonMember() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            let group = try await Self.readers(f, in: a)
            let outsider = try await f.user("outsider")
            let memberOfB = try await f.member(of: b)
            await expectError(.notTenantMember) { try await f.auth.addUserToGroup(tenant: a, group: group, user: outsider) }
            await expectError(.notTenantMember) { try await f.auth.addUserToGroup(tenant: a, group: group, user: memberOfB) }
            #expect(try await Self.count(f, "user_group_member") == 0)
            #expect(try await !f.auth.hasPermission(tenant: b, user: memberOfB, code: "docs.read"))
        }
    }

    @Test("a group of another tenant, an unknown group, user or tenant are refused by add_user_to_group")
    func addUnknown() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            let groupOfA = try await f.auth.createUserGroup(tenant: a, code: "TEAM", name: "Team")
            let user = try await f.member(of: b)
            try await f.auth.addUserToTenant(a, user: user)
            await expectError(.unknownUserGroup) { try await f.auth.addUserToGroup(tenant: b, group: groupOfA, user: user) }
            await expectError(.unknownUserGroup) { try await f.auth.addUserToGroup(tenant: a, group: UserGroupID(UUID()), user: user) }
            await expectError(.unknownUser) { try await f.auth.addUserToGroup(tenant: a, group: groupOfA, user: UserID(UUID())) }
            await expectError(.unknownTenant) { try await f.auth.addUserToGroup(tenant: TenantID(UUID()), group: groupOfA, user: user) }
            #expect(try await Self.count(f, "user_group_member") == 0)
        }
    }

    @Test("a user whose membership of the tenant is inactive can still be put in a group, but gains nothing until reactivated")
    func addInactiveMember() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let group = try await Self.readers(f, in: tenant)
            let user = try await f.member(of: tenant)
            try await f.auth.removeUserFromTenant(tenant, user: user)
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            #expect(try await Self.isMember(f, group, user))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
            try await f.auth.addUserToTenant(tenant, user: user)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
        }
    }

    @Test("remove_user_from_group ends the membership and the grants that came with it")
    func removeMember() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let group = try await Self.readers(f, in: tenant)
            let user = try await f.member(of: tenant)
            let stays = try await f.member(of: tenant)
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: stays)

            try await f.auth.removeUserFromGroup(tenant: tenant, group: group, user: user)
            #expect(try await !Self.isMember(f, group, user))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
            #expect(try await Self.isMember(f, group, stays))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: stays, code: "docs.read"))
        }
    }

    @Test("remove_user_from_group fails for a user not in the group, including non-members of the tenant")
    func removeNonMember() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "TEAM", name: "Team")
            let member = try await f.member(of: tenant)
            let inGroup = try await f.member(of: tenant)
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: inGroup)
            let outsider = try await f.user("outsider")
            await expectError(.notGroupMember) { try await f.auth.removeUserFromGroup(tenant: tenant, group: group, user: member) }
            await expectError(.notGroupMember) { try await f.auth.removeUserFromGroup(tenant: tenant, group: group, user: outsider) }
            #expect(try await Self.isMember(f, group, inGroup))
        }
    }

    @Test("remove_user_from_group refuses another tenant's group and unknown ids, removing nothing")
    func removeUnknown() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            let groupOfA = try await f.auth.createUserGroup(tenant: a, code: "TEAM", name: "Team")
            let user = try await f.member(of: a)
            try await f.auth.addUserToTenant(b, user: user)
            try await f.auth.addUserToGroup(tenant: a, group: groupOfA, user: user)
            await expectError(.unknownUserGroup) { try await f.auth.removeUserFromGroup(tenant: b, group: groupOfA, user: user) }
            await expectError(.unknownUserGroup) { try await f.auth.removeUserFromGroup(tenant: a, group: UserGroupID(UUID()), user: user) }
            await expectError(.unknownUser) { try await f.auth.removeUserFromGroup(tenant: a, group: groupOfA, user: UserID(UUID())) }
            await expectError(.unknownTenant) { try await f.auth.removeUserFromGroup(tenant: TenantID(UUID()), group: groupOfA, user: user) }
            #expect(try await Self.isMember(f, groupOfA, user))
        }
    }

    // MARK: deactivate / activate / delete

    @Test("a deactivated group grants nothing until it is activated again; both are idempotent")
    func deactivateAndActivate() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let group = try await Self.readers(f, in: tenant)
            let user = try await f.member(of: tenant)
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)

            try await f.auth.deactivateUserGroup(tenant: tenant, group: group)
            #expect(try await Self.isActive(f, group) == false)
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
            #expect(try await Self.isMember(f, group, user))
            try await f.auth.deactivateUserGroup(tenant: tenant, group: group)
            #expect(try await Self.isActive(f, group) == false)

            try await f.auth.activateUserGroup(tenant: tenant, group: group)
            #expect(try await Self.isActive(f, group) == true)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
            try await f.auth.activateUserGroup(tenant: tenant, group: group)
            #expect(try await Self.isActive(f, group) == true)
        }
    }

    @Test("deactivating one group leaves grants of the user's other groups and direct grants in place")
    func deactivateOneOfSeveral() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.catalogue(["docs.write"])
            let first = try await Self.readers(f, in: tenant, code: "FIRST")
            let second = try await Self.readers(f, in: tenant, code: "SECOND")
            let user = try await f.member(of: tenant)
            try await f.auth.addUserToGroup(tenant: tenant, group: first, user: user)
            try await f.auth.addUserToGroup(tenant: tenant, group: second, user: user)
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("docs.write"))

            try await f.auth.deactivateUserGroup(tenant: tenant, group: first)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
            try await f.auth.deactivateUserGroup(tenant: tenant, group: second)
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "docs.write"))
        }
    }

    @Test("deactivate, activate and delete refuse a group of another tenant and unknown ids, changing nothing")
    func lifecycleAcrossTenants() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            let active = try await f.auth.createUserGroup(tenant: a, code: "ACTIVE", name: "Active")
            let inactive = try await f.auth.createUserGroup(tenant: a, code: "INACTIVE", name: "Inactive")
            try await f.auth.deactivateUserGroup(tenant: a, group: inactive)

            await expectError(.unknownUserGroup) { try await f.auth.deactivateUserGroup(tenant: b, group: active) }
            await expectError(.unknownUserGroup) { try await f.auth.activateUserGroup(tenant: b, group: inactive) }
            await expectError(.unknownUserGroup) { try await f.auth.deleteUserGroup(tenant: b, group: active) }
            await expectError(.unknownUserGroup) { try await f.auth.deactivateUserGroup(tenant: a, group: UserGroupID(UUID())) }
            await expectError(.unknownUserGroup) { try await f.auth.activateUserGroup(tenant: a, group: UserGroupID(UUID())) }
            await expectError(.unknownUserGroup) { try await f.auth.deleteUserGroup(tenant: a, group: UserGroupID(UUID())) }
            await expectError(.unknownTenant) { try await f.auth.deactivateUserGroup(tenant: TenantID(UUID()), group: active) }
            await expectError(.unknownTenant) { try await f.auth.activateUserGroup(tenant: TenantID(UUID()), group: inactive) }
            await expectError(.unknownTenant) { try await f.auth.deleteUserGroup(tenant: TenantID(UUID()), group: active) }
            #expect(try await Self.isActive(f, active) == true)
            #expect(try await Self.isActive(f, inactive) == false)
        }
    }

    @Test("delete_user_group deletes the group with its memberships, owners and assignments")
    func delete() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let group = try await Self.readers(f, in: tenant)
            let keep = try await Self.readers(f, in: tenant, code: "KEEP")
            let user = try await f.member(of: tenant)
            let owner = try await f.member(of: tenant)
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            try await f.auth.addUserToGroup(tenant: tenant, group: keep, user: owner)
            try await f.auth.assignGroupOwner(tenant: tenant, group: group, user: owner)

            try await f.auth.deleteUserGroup(tenant: tenant, group: group)
            #expect(try await Self.isActive(f, group) == nil)
            #expect(try await f.sql("SELECT count(*) FROM auth.user_group_member WHERE user_group_id = $1", [group]).scalar(Int.self) == 0)
            #expect(try await f.sql("SELECT count(*) FROM auth.owner WHERE user_group_id = $1", [group]).scalar(Int.self) == 0)
            #expect(try await f.sql("SELECT count(*) FROM auth.permission_assignment WHERE user_group_id = $1", [group])
                .scalar(Int.self) == 0)
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
            // The other group, its member and its assignment are untouched; the members stay in the tenant.
            #expect(try await f.auth.hasPermission(tenant: tenant, user: owner, code: "docs.read"))
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: user))
            // The code is free again.
            _ = try await f.auth.createUserGroup(tenant: tenant, code: "READERS", name: "Readers again")
        }
    }

    // MARK: group owners

    @Test("assign_group_owner makes a tenant member a group owner, without joining the group or gaining its grants")
    func assignOwner() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let group = try await Self.readers(f, in: tenant)
            let owner = try await f.member(of: tenant)
            #expect(try await !f.auth.isGroupOwner(tenant: tenant, group: group, user: owner))

            try await f.auth.assignGroupOwner(tenant: tenant, group: group, user: owner)
            #expect(try await f.auth.isGroupOwner(tenant: tenant, group: group, user: owner))
            let row = try await f.sql("SELECT tenant_id FROM auth.owner WHERE user_group_id = $1 AND user_id = $2",
                                      [group, owner]).single()
            #expect(try row.decode(TenantID.self, at: 0) == tenant)
            #expect(try await !Self.isMember(f, group, owner))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: owner, code: "docs.read"))
        }
    }

    @Test("owning a group gives no rights over the tenant")
    func groupOwnerIsNotTenantOwner() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            try await f.catalogue(["tenant.manage"])
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "TEAM", name: "Team")
            let owner = try await f.member(of: tenant)
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: owner)
            try await f.auth.assignGroupOwner(tenant: tenant, group: group, user: owner)
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: owner, code: "tenant.manage"))
            #expect(try await f.sql("SELECT count(*) FROM auth.owner WHERE tenant_id = $1 AND user_group_id IS NULL", [tenant])
                .scalar(Int.self) == 0)
        }
    }

    @Test("a group can have several owners, and a user can own several groups")
    func severalOwners() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let first = try await f.auth.createUserGroup(tenant: tenant, code: "FIRST", name: "First")
            let second = try await f.auth.createUserGroup(tenant: tenant, code: "SECOND", name: "Second")
            let alice = try await f.member(of: tenant, "alice")
            let bob = try await f.member(of: tenant, "bob")
            try await f.auth.assignGroupOwner(tenant: tenant, group: first, user: alice)
            try await f.auth.assignGroupOwner(tenant: tenant, group: first, user: bob)
            try await f.auth.assignGroupOwner(tenant: tenant, group: second, user: alice)
            #expect(try await f.auth.isGroupOwner(tenant: tenant, group: first, user: alice))
            #expect(try await f.auth.isGroupOwner(tenant: tenant, group: first, user: bob))
            #expect(try await f.auth.isGroupOwner(tenant: tenant, group: second, user: alice))
            #expect(try await !f.auth.isGroupOwner(tenant: tenant, group: second, user: bob))
        }
    }

    @Test("assign_group_owner accepts an existing owner (no change) and refuses a non-member of the tenant, another tenant's group and unknown ids")
    func assignOwnerErrors() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            let group = try await f.auth.createUserGroup(tenant: a, code: "TEAM", name: "Team")
            let owner = try await f.member(of: a)
            try await f.auth.assignGroupOwner(tenant: a, group: group, user: owner)
            let memberOfB = try await f.member(of: b)
            let outsider = try await f.user("outsider")
            let owners = try await Self.count(f, "owner")

            try await f.auth.assignGroupOwner(tenant: a, group: group, user: owner)  // the result holds: no error, no row
            await expectError(.notTenantMember) { try await f.auth.assignGroupOwner(tenant: a, group: group, user: outsider) }
            await expectError(.notTenantMember) { try await f.auth.assignGroupOwner(tenant: a, group: group, user: memberOfB) }
            await expectError(.unknownUserGroup) { try await f.auth.assignGroupOwner(tenant: b, group: group, user: memberOfB) }
            await expectError(.unknownUserGroup) { try await f.auth.assignGroupOwner(tenant: a, group: UserGroupID(UUID()), user: owner) }
            await expectError(.unknownUser) { try await f.auth.assignGroupOwner(tenant: a, group: group, user: UserID(UUID())) }
            await expectError(.unknownTenant) { try await f.auth.assignGroupOwner(tenant: TenantID(UUID()), group: group, user: owner) }
            #expect(try await Self.count(f, "owner") == owners)
            #expect(try await !f.auth.isGroupOwner(tenant: a, group: group, user: outsider))
        }
    }

    @Test("remove_group_owner removes one owner; removing a user who does not own the group does nothing")
    func removeOwner() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "TEAM", name: "Team")
            let other = try await f.auth.createUserGroup(tenant: tenant, code: "OTHER", name: "Other")
            let alice = try await f.member(of: tenant, "alice")
            let bob = try await f.member(of: tenant, "bob")
            try await f.auth.assignGroupOwner(tenant: tenant, group: group, user: alice)
            try await f.auth.assignGroupOwner(tenant: tenant, group: group, user: bob)
            try await f.auth.assignGroupOwner(tenant: tenant, group: other, user: alice)

            try await f.auth.removeGroupOwner(tenant: tenant, group: group, user: alice)
            #expect(try await !f.auth.isGroupOwner(tenant: tenant, group: group, user: alice))
            #expect(try await f.auth.isGroupOwner(tenant: tenant, group: group, user: bob))
            #expect(try await f.auth.isGroupOwner(tenant: tenant, group: other, user: alice))

            try await f.auth.removeGroupOwner(tenant: tenant, group: group, user: alice)
            #expect(try await Self.count(f, "owner") == 2)
            // The owner stays a member of the tenant.
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: alice))
        }
    }

    @Test("remove_group_owner refuses another tenant's group and unknown ids, removing nothing")
    func removeOwnerErrors() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            let group = try await f.auth.createUserGroup(tenant: a, code: "TEAM", name: "Team")
            let owner = try await f.member(of: a)
            try await f.auth.addUserToTenant(b, user: owner)
            try await f.auth.assignGroupOwner(tenant: a, group: group, user: owner)
            await expectError(.unknownUserGroup) { try await f.auth.removeGroupOwner(tenant: b, group: group, user: owner) }
            await expectError(.unknownUserGroup) { try await f.auth.removeGroupOwner(tenant: a, group: UserGroupID(UUID()), user: owner) }
            await expectError(.unknownUser) { try await f.auth.removeGroupOwner(tenant: a, group: group, user: UserID(UUID())) }
            await expectError(.unknownTenant) { try await f.auth.removeGroupOwner(tenant: TenantID(UUID()), group: group, user: owner) }
            #expect(try await f.auth.isGroupOwner(tenant: a, group: group, user: owner))
        }
    }

    @Test("is_group_owner is false for members and tenant owners, and refuses another tenant's group and unknown ids")
    func isGroupOwner() async throws {
        try await AuthFixture.run { f in
            let tenantOwner = try await f.user("boss")
            let a = try await f.tenant("A", owner: tenantOwner)
            let b = try await f.tenant("B")
            let group = try await f.auth.createUserGroup(tenant: a, code: "TEAM", name: "Team")
            let member = try await f.member(of: a)
            try await f.auth.addUserToGroup(tenant: a, group: group, user: member)
            try await f.auth.addUserToTenant(b, user: member)
            #expect(try await !f.auth.isGroupOwner(tenant: a, group: group, user: member))
            #expect(try await !f.auth.isGroupOwner(tenant: a, group: group, user: tenantOwner))
            #expect(try await !f.auth.isGroupOwner(tenant: a, group: group, user: f.user("outsider")))

            try await f.auth.assignGroupOwner(tenant: a, group: group, user: member)
            await expectError(.unknownUserGroup) { _ = try await f.auth.isGroupOwner(tenant: b, group: group, user: member) }
            await expectError(.unknownUserGroup) { _ = try await f.auth.isGroupOwner(tenant: a, group: UserGroupID(UUID()), user: member) }
            await expectError(.unknownUser) { _ = try await f.auth.isGroupOwner(tenant: a, group: group, user: UserID(UUID())) }
            await expectError(.unknownTenant) { _ = try await f.auth.isGroupOwner(tenant: TenantID(UUID()), group: group, user: member) }
        }
    }

    @Test("a hard removal from the tenant ends the user's group memberships and ownerships there")
    func hardRemovalFromTenant() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let group = try await Self.readers(f, in: tenant)
            let user = try await f.member(of: tenant)
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            try await f.auth.assignGroupOwner(tenant: tenant, group: group, user: user)

            try await f.auth.removeUserFromTenant(tenant, user: user, hard: true)
            #expect(try await !Self.isMember(f, group, user))
            #expect(try await !f.auth.isGroupOwner(tenant: tenant, group: group, user: user))
            #expect(try await Self.isActive(f, group) == true)
        }
    }
}
