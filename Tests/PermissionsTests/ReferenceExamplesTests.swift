import Foundation
import Permissions
import PQ
import Testing

/// Every SQL example of `reference/tenant-management.md`, run as written: the example's text is
/// kept verbatim (``Reference``), its placeholder strings ('tenant-uuid', 'user-uuid', ...) are
/// replaced by the quoted uuids of objects created first, and the effect of each is asserted;
/// one by one, and all of them in the document's order on one database.
@Suite("Reference examples (tenant-management.md)")
struct ReferenceExamplesTests {
    // MARK: - Core tables

    @Test("auth.tenant, auth.tenant_user and auth.owner have the columns the reference shows")
    func coreTables() async throws {
        try await AuthFixture.run { f in
            let expected: [String: [String: String]] = [
                "tenant": ["tenant_id": "uuid", "name": "text", "code": "text", "is_active": "boolean",
                           "created_at": "timestamp with time zone", "updated_at": "timestamp with time zone"],
                "tenant_user": ["tenant_id": "uuid", "user_id": "uuid", "is_active": "boolean",
                                "joined_at": "timestamp with time zone"],
                "owner": ["owner_id": "uuid", "tenant_id": "uuid", "user_group_id": "uuid", "user_id": "uuid"],
            ]
            for (table, columns) in expected {
                var actual: [String: String] = [:]
                for row in try await f.sql("""
                    SELECT column_name::text, data_type::text FROM information_schema.columns
                     WHERE table_schema = 'auth' AND table_name = $1
                    """, [table]) {
                    actual[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1)
                }
                for (column, type) in columns {
                    #expect(actual[column] == type, "auth.\(table).\(column)")
                }
            }
            // Inserting with the defaults the reference relies on: generated key, active, timestamps set.
            let row = try await f.sql("""
                INSERT INTO auth.tenant (name, code) VALUES ('Defaults', 'DEFAULTS')
                RETURNING tenant_id IS NOT NULL, is_active, created_at IS NOT NULL AND updated_at IS NOT NULL
                """).single()
            #expect(try row.decode(Bool.self, at: 0) && row.decode(Bool.self, at: 1) && row.decode(Bool.self, at: 2))
        }
    }

    // MARK: - Creating and managing tenants

    @Test("Create a New Tenant: auth.create_tenant with := arguments returns the id of an active tenant owned by the user")
    func createTenant() async throws {
        try await AuthFixture.run { f in
            let user = try await f.user("acme-admin")
            try await f.catalogue(["users.create_user"])
            let sql = try reference(Reference.createTenant, ["user-uuid-here": user])
            let tenant = try await f.sql(sql).scalar(TenantID.self)

            let row = try await f.sql("SELECT name, code, is_active FROM auth.tenant WHERE tenant_id = $1", [tenant]).single()
            #expect(try row.decode(String.self, at: 0) == "Acme Corporation")
            #expect(try row.decode(String.self, at: 1) == "ACME")
            #expect(try row.decode(Bool.self, at: 2))
            #expect(try await ownerIDs(f, tenant) == [user])
            #expect(try await f.auth.tenantUsers(tenant).map(\.userID) == [user])
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_user"))
        }
    }

    @Test("Update Tenant Information: auth.update_tenant renames the tenant and changes its code")
    func updateTenant() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.auth.createTenant(name: "Acme Corporation", code: "ACME")
            let other = try await f.auth.createTenant(name: "Other", code: "OTHER")
            try await f.sql(try reference(Reference.updateTenant, ["tenant-uuid": tenant]))

            let row = try await f.sql("SELECT name, code FROM auth.tenant WHERE tenant_id = $1", [tenant]).single()
            #expect(try row.decode(String.self, at: 0) == "Acme Corp International")
            #expect(try row.decode(String.self, at: 1) == "ACME-INTL")
            #expect(try await f.auth.tenantStatistics(other).tenantName == "Other")
            // The old code is free again.
            _ = try await f.auth.createTenant(name: "New Acme", code: "ACME")
        }
    }

    @Test("Activate/Deactivate Tenants: the direct UPDATEs deny and restore every check at once")
    func deactivateAndReactivate() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let member = try await f.member(of: tenant)
            try await f.catalogue(["users.create_user"])
            try await f.auth.assignPermission(tenant: tenant, to: .user(member), grant: .permission("users.create_user"))

            try await f.sql(try reference(Reference.deactivateTenant, ["tenant-uuid": tenant]))
            #expect(try await !isActive(f, tenant))
            for user in [owner, member] {
                #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_user"))
                #expect(try await !f.auth.checkTenantAccess(tenant: tenant, user: user))
            }

            try await f.sql(try reference(Reference.reactivateTenant, ["tenant-uuid": tenant]))
            #expect(try await isActive(f, tenant))
            for user in [owner, member] {
                #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_user"))
                #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: user))
            }
        }
    }

    // MARK: - Managing tenant users

    @Test("Add User to Tenant: the direct INSERT and auth.add_user_to_tenant both make an active member")
    func addUserToTenant() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let inserted = try await f.user("inserted")
            let added = try await f.user("added")

            try await f.sql(try reference(Reference.addUserByInsert, ["tenant-uuid": tenant, "user-uuid": inserted]))
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: inserted))
            #expect(try await !f.auth.checkTenantAccess(tenant: tenant, user: added))

            try await f.sql(try reference(Reference.addUserByFunction, ["tenant-uuid": tenant, "user-uuid": added]))
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: added))
            #expect(try await Set(f.auth.tenantUsers(tenant).map(\.userID)) == [inserted, added])
            #expect(try await f.sql("""
                SELECT bool_and(is_active AND joined_at IS NOT NULL) FROM auth.tenant_user WHERE tenant_id = $1
                """, [tenant]).scalar(Bool.self))
        }
    }

    @Test("Remove User from Tenant: the soft UPDATE deactivates the membership, the hard DELETE removes it")
    func removeUserFromTenant() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            let stays = try await f.member(of: tenant, "stays")
            try await f.catalogue(["users.create_user"])
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("users"))
            let values: [String: any EntityID] = ["tenant-uuid": tenant, "user-uuid": user]

            try await f.sql(try reference(Reference.softRemoveUser, values))
            #expect(try await !f.auth.checkTenantAccess(tenant: tenant, user: user))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_user"))
            #expect(try await f.auth.tenantUsers(tenant).map(\.userID) == [stays])
            let soft = try await f.auth.tenantUsers(tenant, includeInactive: true)
            #expect(soft.first { $0.userID == user }?.isActive == false)

            try await f.sql(try reference(Reference.hardRemoveUser, values))
            #expect(try await f.auth.tenantUsers(tenant, includeInactive: true).map(\.userID) == [stays])
            #expect(try await f.sql("SELECT count(*) FROM auth.permission_assignment WHERE tenant_id = $1 AND user_id = $2",
                                    [tenant, user]).scalar(Int.self) == 0)
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: stays))
        }
    }

    @Test("List Tenant Users: the query lists the active members who are active users, by display name")
    func listTenantUsers() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let other = try await f.tenant("Other")
            func member(_ name: String, of tenant: TenantID) async throws -> UserID {
                let user = try await f.auth.createUser(username: name.lowercased(), email: "\(name.lowercased())@example.com",
                                                       displayName: name)
                try await f.auth.addUserToTenant(tenant, user: user)
                return user
            }
            let carol = try await member("Carol", of: tenant)
            let alice = try await member("Alice", of: tenant)
            let bob = try await member("Bob", of: tenant)
            let dave = try await member("Dave", of: tenant)
            _ = try await member("Eve", of: other)
            try await f.auth.removeUserFromTenant(tenant, user: bob)
            try await f.auth.deactivateUser(dave)

            let rows = try await f.sql(try reference(Reference.listTenantUsers, ["tenant-uuid": tenant]))
            #expect(try rows.map { try $0.decode(UserID.self, column: "user_id") } == [alice, carol])
            #expect(try rows.map { try $0.decode(String.self, column: "username") } == ["alice", "carol"])
            #expect(try rows.map { try $0.decode(String.self, column: "email") } == ["alice@example.com", "carol@example.com"])
            #expect(try rows.map { try $0.decode(String.self, column: "display_name") } == ["Alice", "Carol"])
            #expect(try rows.allSatisfy { try $0.decode(Date?.self, column: "joined_at") != nil })
            // auth.get_tenant_users gives the same list.
            #expect(try await f.auth.tenantUsers(tenant).map(\.userID) == [alice, carol])
        }
    }

    // MARK: - Tenant ownership

    @Test("Assign Tenant Owner: auth.assign_tenant_owner makes the user an owner who passes every check")
    func assignTenantOwner() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let owner = try await f.user("owner")
            try await f.catalogue(["billing.refund"])
            #expect(try await !f.auth.checkTenantAccess(tenant: tenant, user: owner))

            try await f.sql(try reference(Reference.assignTenantOwner, ["tenant-uuid": tenant, "owner-user-uuid": owner]))
            #expect(try await ownerIDs(f, tenant) == [owner])
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: owner))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: owner, code: "billing.refund"))
        }
    }

    @Test("Transfer Ownership: the direct UPDATE of auth.owner hands the tenant to a user who was not yet a member")
    func transferOwnership() async throws {
        try await AuthFixture.run { f in
            let oldOwner = try await f.user("old-owner")
            let newOwner = try await f.user("new-owner")
            let tenant = try await f.tenant(owner: oldOwner)
            try await f.catalogue(["billing.refund"])

            try await f.sql(try reference(Reference.transferOwnership, ["new-owner-uuid": newOwner, "tenant-uuid": tenant]))
            #expect(try await ownerIDs(f, tenant) == [newOwner])
            #expect(try await f.auth.hasPermission(tenant: tenant, user: newOwner, code: "billing.refund"))
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: newOwner))
            // The old owner stays a member, without the owner's pass.
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: oldOwner))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: oldOwner, code: "billing.refund"))
        }
    }

    @Test("Query Tenant Owners: the query returns the tenant's name with its owner's display name and email")
    func queryTenantOwners() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.auth.createUser(username: "olivia", email: "olivia@acme.example", displayName: "Olivia Owner")
            let tenant = try await f.auth.createTenant(name: "Acme Corporation", code: "ACME", owner: owner)
            // Another tenant's owner, and a group owner of this tenant, are not listed.
            _ = try await f.auth.createTenant(name: "Other", code: "OTHER", owner: try await f.user("other-owner"))
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            let groupOwner = try await f.member(of: tenant, "group-owner")
            try await f.auth.assignGroupOwner(tenant: tenant, group: group, user: groupOwner)

            let rows = try await f.sql(try reference(Reference.queryTenantOwners, ["tenant-uuid": tenant]))
            let names = try rows.map { try $0.decode(String.self, column: "owner_name") }
            #expect(names.contains("Olivia Owner"))
            let olivia = try #require(rows.first { $0["owner_name"] == "Olivia Owner" })
            #expect(try olivia.decode(String.self, column: "tenant_name") == "Acme Corporation")
            #expect(try olivia.decode(String.self, column: "owner_email") == "olivia@acme.example")
            #expect(!names.contains("Other-Owner"))
            // As written, the query also lists group owners (auth.owner holds both); the tenant
            // owners alone are the rows with user_group_id NULL.
            #expect(names.sorted() == ["Group-Owner", "Olivia Owner"])
        }
    }

    // MARK: - Tenant-specific permission sets

    @Test("Tenant-Specific Permission Sets: create_perm_set and add_perm_set_permissions build a set that grants its codes")
    func tenantPermissionSet() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let other = try await f.tenant("Other")
            let admin = try await f.member(of: tenant, "admin")
            try await f.catalogue(["users.create_user", "groups.create_group", "permissions.assign", "billing"])
            let values: [String: any EntityID] = ["tenant-uuid": tenant]

            let permSet = try await f.sql(try reference(Reference.createPermSet, values)).scalar(PermSetID.self)
            try await f.sql(try reference(Reference.addPermSetPermissions, values))

            let row = try await f.sql("SELECT tenant_id, code, name, description FROM auth.perm_set WHERE perm_set_id = $1",
                                      [permSet]).single()
            #expect(try row.decode(TenantID.self, at: 0) == tenant)
            #expect(try row.decode(String.self, at: 1) == "TENANT_ADMIN")
            #expect(try row.decode(String.self, at: 2) == "Tenant Administrator")
            #expect(try row.decode(String.self, at: 3) == "Full administrative access within tenant")
            #expect(try await permSetCodes(f, permSet) == ["groups", "permissions", "users"])
            // The set is this tenant's only.
            try await f.auth.addUserToTenant(other, user: admin)
            await expectError(.unknownPermSet) {
                try await f.auth.assignPermission(tenant: other, to: .user(admin), grant: .permSet("TENANT_ADMIN"))
            }

            try await f.auth.assignPermission(tenant: tenant, to: .user(admin), grant: .permSet("TENANT_ADMIN"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: admin, code: "users.create_user"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: admin, code: "permissions.assign"))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: admin, code: "billing"))
        }
    }

    // MARK: - User tenant preferences

    @Test("User Tenant Preferences: the upsert inserts then replaces, and the query reads it back")
    func userPreferences() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let other = try await f.tenant("Other")
            let user = try await f.member(of: tenant)
            try await f.auth.addUserToTenant(other, user: user)
            try await f.auth.setUserPreference(user: user, tenant: other, key: "theme", value: "solarized")
            let values: [String: any EntityID] = ["user-uuid": user, "tenant-uuid": tenant]
            let upsert = try reference(Reference.setPreference, values)
            let get = try reference(Reference.getPreferences, values)
            func read() async throws -> [String: String] {
                var result: [String: String] = [:]
                for row in try await f.sql(get) {
                    result[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1)
                }
                return result
            }

            try await f.sql(upsert)
            #expect(try await read() == ["theme": "dark"])
            // Run again with another value: the ON CONFLICT branch replaces it.
            try await f.sql(upsert.replacingOccurrences(of: "'dark'", with: "'light'"))
            #expect(try await read() == ["theme": "light"])
            #expect(try await f.auth.userPreferences(user: user, tenant: tenant) == ["theme": "light"])
            #expect(try await f.auth.userPreferences(user: user, tenant: other) == ["theme": "solarized"])
        }
    }

    // MARK: - Tenant isolation patterns

    @Test("Permission Checks with Tenant Context: auth.has_permission with := arguments")
    func hasPermissionWithTenantContext() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let other = try await f.tenant("Other")
            let user = try await f.member(of: tenant)
            try await f.auth.addUserToTenant(other, user: user)
            try await f.catalogue(["users.create_user"])
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("users"))
            let example = Reference.hasPermission
            #expect(try await f.sql(try reference(example, ["tenant-uuid": tenant, "user-uuid": user])).scalar(Bool.self))
            #expect(try await !f.sql(try reference(example, ["tenant-uuid": other, "user-uuid": user])).scalar(Bool.self))
        }
    }

    @Test("Tenant-Scoped Queries: the groups and assignments queries return that tenant's rows only")
    func tenantScopedQueries() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let other = try await f.tenant("Other")
            try await f.catalogue(["users.create_user"])
            var groups: [TenantID: Set<UserGroupID>] = [:]
            var assignments: [TenantID: Set<AssignmentID>] = [:]
            for t in [tenant, other] {
                let user = try await f.member(of: t)
                for code in ["ADMINS", "STAFF"] {
                    let group = try await f.auth.createUserGroup(tenant: t, code: code, name: code.capitalized)
                    groups[t, default: []].insert(group)
                    assignments[t, default: []].insert(
                        try await f.auth.assignPermission(tenant: t, to: .group(group), grant: .permission("users")))
                }
                assignments[t, default: []].insert(
                    try await f.auth.assignPermission(tenant: t, to: .user(user), grant: .permission("users.create_user")))
            }
            let values: [String: any EntityID] = ["tenant-uuid": tenant]

            let groupRows = try await f.sql(try reference(Reference.tenantGroups, values))
            #expect(try Set(groupRows.map { try $0.decode(UserGroupID.self, column: "user_group_id") }) == groups[tenant])
            let assignmentRows = try await f.sql(try reference(Reference.tenantAssignments, values))
            #expect(try Set(assignmentRows.map { try $0.decode(AssignmentID.self, column: "assignment_id") }) == assignments[tenant])
        }
    }

    // MARK: - Common tenant operations

    @Test("Create Tenant with Initial Setup: the DO block creates the tenant, its admin group and set, and the assignment")
    func initialSetupBlock() async throws {
        try await AuthFixture.run { f in
            let admin = try await f.user("admin")
            try await f.catalogue(["users.create_user", "billing"])
            try await f.sql(try reference(Reference.initialSetup, ["admin-user-uuid": admin]))

            let tenant = try await f.sql("SELECT tenant_id FROM auth.tenant WHERE code = 'NEWCO' AND name = 'New Company'")
                .scalar(TenantID.self)
            #expect(try await ownerIDs(f, tenant) == [admin])
            let group = try await f.sql("""
                SELECT user_group_id FROM auth.user_group WHERE tenant_id = $1 AND code = 'ADMINS' AND name = 'Administrators'
                """, [tenant]).scalar(UserGroupID.self)
            let permSet = try await f.sql("""
                SELECT perm_set_id FROM auth.perm_set
                 WHERE tenant_id = $1 AND code = 'FULL_ACCESS' AND name = 'Full Access' AND description = 'Complete system access'
                """, [tenant]).scalar(PermSetID.self)
            let assignment = try await f.sql("""
                SELECT user_group_id, perm_set_id, user_id IS NULL AND permission_id IS NULL
                  FROM auth.permission_assignment WHERE tenant_id = $1
                """, [tenant]).single()
            #expect(try assignment.decode(UserGroupID.self, at: 0) == group)
            #expect(try assignment.decode(PermSetID.self, at: 1) == permSet)
            #expect(try assignment.decode(Bool.self, at: 2))

            // The set is empty as created; filling it grants its codes to the group's members.
            let member = try await f.member(of: tenant)
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: member)
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: member, code: "users.create_user"))
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "FULL_ACCESS", codes: ["users"])
            #expect(try await f.auth.hasPermission(tenant: tenant, user: member, code: "users.create_user"))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: member, code: "billing"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: admin, code: "billing"))
        }
    }

    @Test("Clone Tenant Configuration: auth.duplicate_perm_set copies the set with its codes into the target tenant")
    func clonePermSet() async throws {
        try await AuthFixture.run { f in
            let source = try await f.tenant("Source")
            let target = try await f.tenant("Target")
            try await f.catalogue(["users.view", "reports.view", "billing"])
            let original = try await f.auth.createPermSet(tenant: source, code: "STANDARD_USER", name: "Standard user",
                                                          description: "Everyday access")
            try await f.auth.addPermSetPermissions(tenant: source, permSet: "STANDARD_USER", codes: ["users.view", "reports"])

            let copy = try await f.sql(try reference(Reference.duplicatePermSet,
                                                     ["source-tenant-uuid": source, "target-tenant-uuid": target]))
                .scalar(PermSetID.self)

            #expect(copy != original)
            let row = try await f.sql("SELECT tenant_id, code, name, description FROM auth.perm_set WHERE perm_set_id = $1",
                                      [copy]).single()
            #expect(try row.decode(TenantID.self, at: 0) == target)
            #expect(try row.decode(String.self, at: 1) == "STANDARD_USER")
            #expect(try row.decode(String.self, at: 2) == "Standard user")
            #expect(try row.decode(String.self, at: 3) == "Everyday access")
            #expect(try await permSetCodes(f, copy) == ["reports", "users.view"])
            #expect(try await permSetCodes(f, original) == ["reports", "users.view"])

            let user = try await f.member(of: target)
            try await f.auth.assignPermission(tenant: target, to: .user(user), grant: .permSet("STANDARD_USER"))
            #expect(try await f.auth.hasPermission(tenant: target, user: user, code: "reports.view"))
            #expect(try await !f.auth.hasPermission(tenant: target, user: user, code: "billing"))
            // The copy is independent of the original.
            try await f.auth.removePermSetPermissions(tenant: source, permSet: "STANDARD_USER", codes: ["reports"])
            #expect(try await f.auth.hasPermission(tenant: target, user: user, code: "reports.view"))
        }
    }

    @Test("Tenant Statistics: the query counts active memberships, groups and permission sets, like auth.get_tenant_statistics")
    func tenantStatistics() async throws {
        try await AuthFixture.run { f in
            // A template set: every tenant created afterwards gets a copy, which counts.
            _ = try await f.auth.createPermSet(tenant: nil, code: "VIEWER", name: "Viewer")
            let owner = try await f.user("owner")
            let tenant = try await f.auth.createTenant(name: "Acme Corporation", code: "ACME", owner: owner)
            let other = try await f.tenant("Other")
            var members: [UserID] = []
            for name in ["ann", "ben", "cat"] { members.append(try await f.member(of: tenant, name)) }
            try await f.auth.removeUserFromTenant(tenant, user: members[2])
            for code in ["ADMINS", "STAFF"] {
                let group = try await f.auth.createUserGroup(tenant: tenant, code: code, name: code)
                // Group members multiply the join rows; the counts must not.
                for member in members.prefix(2) { try await f.auth.addUserToGroup(tenant: tenant, group: group, user: member) }
            }
            for code in ["EDITOR", "AUDITOR"] { _ = try await f.auth.createPermSet(tenant: tenant, code: code, name: code) }
            // Noise in another tenant.
            _ = try await f.member(of: other)
            _ = try await f.auth.createUserGroup(tenant: other, code: "ADMINS", name: "Admins")

            let row = try await f.sql(try reference(Reference.tenantStatistics, ["tenant-uuid": tenant])).single()
            // Owner, ann and ben (cat's membership is inactive); ADMINS and STAFF; EDITOR, AUDITOR and the VIEWER copy.
            #expect(try row.decode(String.self, column: "tenant_name") == "Acme Corporation")
            #expect(try row.decode(Int.self, column: "user_count") == 3)
            #expect(try row.decode(Int.self, column: "group_count") == 2)
            #expect(try row.decode(Int.self, column: "permission_set_count") == 3)

            let statistics = try await f.auth.tenantStatistics(tenant)
            #expect(statistics.tenantName == "Acme Corporation")
            #expect(statistics.userCount == 3)
            #expect(statistics.groupCount == 2)
            #expect(statistics.permissionSetCount == 3)
        }
    }

    // MARK: - Cross-tenant security

    @Test("Cross-Tenant Security: the reference's check_tenant_access agrees with auth.check_tenant_access on memberships")
    func referenceCheckTenantAccess() async throws {
        try await AuthFixture.run { f in
            try await f.sql(try reference(Reference.checkTenantAccess, [:]))
            #expect(try await f.sql("SELECT to_regprocedure('public.check_tenant_access(uuid, uuid)') IS NOT NULL").scalar(Bool.self))

            let tenant = try await f.tenant()
            let other = try await f.tenant("Other")
            let active = try await f.member(of: tenant, "active")
            let softRemoved = try await f.member(of: tenant, "soft-removed")
            try await f.auth.removeUserFromTenant(tenant, user: softRemoved)
            let hardRemoved = try await f.member(of: tenant, "hard-removed")
            try await f.auth.removeUserFromTenant(tenant, user: hardRemoved, hard: true)
            let outsider = try await f.member(of: other, "outsider")

            func both(_ t: TenantID, _ u: UserID) async throws -> (reference: Bool, auth: Bool) {
                let row = try await f.sql("SELECT check_tenant_access($1, $2), auth.check_tenant_access($1, $2)", [t, u]).single()
                return (try row.decode(Bool.self, at: 0), try row.decode(Bool.self, at: 1))
            }
            let cases: [(TenantID, UserID, Bool)] = [
                (tenant, active, true), (tenant, softRemoved, false), (tenant, hardRemoved, false),
                (tenant, outsider, false), (other, outsider, true), (other, active, false),
                (TenantID(UUID()), active, false), (tenant, UserID(UUID()), false),
            ]
            for (t, u, expected) in cases {
                let answers = try await both(t, u)
                #expect(answers.reference == expected)
                #expect(answers.auth == expected)
            }

            // auth.check_tenant_access is stricter (DESIGN §3): an inactive tenant or user has no
            // access, although the membership row itself is still active.
            try await f.auth.deactivateTenant(other)
            #expect(try await both(other, outsider) == (reference: true, auth: false))
            try await f.auth.deactivateUser(active)
            #expect(try await both(tenant, active) == (reference: true, auth: false))
        }
    }

    // MARK: - The whole document, in order

    @Test("every example in document order, on one database, each placeholder user a different user")
    func wholeDocumentInOrder() async throws {
        try await AuthFixture.run { f in
            // What the document presupposes: its users, and the codes its set names.
            func user(_ name: String) async throws -> UserID {
                try await f.auth.createUser(username: name, email: "\(name)@acme.example", displayName: name.capitalized)
            }
            let firstOwner = try await user("ann")      // 'user-uuid-here'
            let member = try await user("ben")          // 'user-uuid', added by INSERT, then removed
            let helperMember = try await user("cat")    // 'user-uuid' of the helper call, the alternative to the INSERT
            let secondOwner = try await user("dan")     // 'owner-user-uuid'
            let newOwner = try await user("eve")        // 'new-owner-uuid'
            let newcoAdmin = try await user("fay")      // 'admin-user-uuid'
            try await f.catalogue(["users.create_user", "groups.create_group", "permissions.assign"])

            let tenant = try await f.sql(try reference(Reference.createTenant, ["user-uuid-here": firstOwner])).scalar(TenantID.self)
            let acme: [String: any EntityID] = ["tenant-uuid": tenant]
            try await f.sql(try reference(Reference.updateTenant, acme))
            try await f.sql(try reference(Reference.deactivateTenant, acme))
            #expect(try await !f.auth.checkTenantAccess(tenant: tenant, user: firstOwner))
            try await f.sql(try reference(Reference.reactivateTenant, acme))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: firstOwner, code: "users.create_user"))

            try await f.sql(try reference(Reference.addUserByInsert, ["tenant-uuid": tenant, "user-uuid": member]))
            try await f.sql(try reference(Reference.addUserByFunction, ["tenant-uuid": tenant, "user-uuid": helperMember]))
            try await f.sql(try reference(Reference.softRemoveUser, ["tenant-uuid": tenant, "user-uuid": member]))
            try await f.sql(try reference(Reference.hardRemoveUser, ["tenant-uuid": tenant, "user-uuid": member]))
            let listed = try await f.sql(try reference(Reference.listTenantUsers, acme))
            #expect(try listed.map { try $0.decode(UserID.self, column: "user_id") } == [firstOwner, helperMember])

            // The sequence of issue 16: A owns the tenant, B is assigned, then the transfer to C.
            try await f.sql(try reference(Reference.assignTenantOwner, ["tenant-uuid": tenant, "owner-user-uuid": secondOwner]))
            #expect(try await Set(ownerIDs(f, tenant)) == [firstOwner, secondOwner])
            try await f.sql(try reference(Reference.transferOwnership, ["new-owner-uuid": newOwner, "tenant-uuid": tenant]))
            #expect(try await ownerIDs(f, tenant) == [newOwner])
            #expect(try await f.auth.hasPermission(tenant: tenant, user: newOwner, code: "users.create_user"))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: firstOwner, code: "users.create_user"))
            let owners = try await f.sql(try reference(Reference.queryTenantOwners, acme))
            #expect(try owners.map { try $0.decode(String.self, column: "owner_email") } == ["eve@acme.example"])
            #expect(try owners.map { try $0.decode(String.self, column: "tenant_name") } == ["Acme Corp International"])

            try await f.sql(try reference(Reference.createPermSet, acme))
            try await f.sql(try reference(Reference.addPermSetPermissions, acme))
            let preferences: [String: any EntityID] = ["tenant-uuid": tenant, "user-uuid": helperMember]
            try await f.sql(try reference(Reference.setPreference, preferences))
            let preference = try await f.sql(try reference(Reference.getPreferences, preferences)).single()
            #expect(try preference.decode(String.self, column: "preference_value") == "dark")
            let check = try reference(Reference.hasPermission, preferences)
            #expect(try await !f.sql(check).scalar(Bool.self))
            // Granting the set the document built makes the same check pass.
            try await f.auth.assignPermission(tenant: tenant, to: .user(helperMember), grant: .permSet("TENANT_ADMIN"))
            #expect(try await f.sql(check).scalar(Bool.self))
            #expect(try await f.sql(try reference(Reference.tenantGroups, acme)).isEmpty)
            #expect(try await f.sql(try reference(Reference.tenantAssignments, acme)).count == 1)

            try await f.sql(try reference(Reference.initialSetup, ["admin-user-uuid": newcoAdmin]))
            let newco = try await f.auth.tenant(code: "NEWCO").id
            #expect(try await ownerIDs(f, newco) == [newcoAdmin])
            // The clone presupposes a STANDARD_USER set in the source.
            _ = try await f.auth.createPermSet(tenant: tenant, code: "STANDARD_USER", name: "Standard user")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "STANDARD_USER", codes: ["users"])
            try await f.sql(try reference(Reference.duplicatePermSet, ["source-tenant-uuid": tenant, "target-tenant-uuid": newco]))
            #expect(try await permSetCodes(f, f.sql("SELECT perm_set_id FROM auth.perm_set WHERE tenant_id = $1 AND code = 'STANDARD_USER'",
                                                    [newco]).scalar(PermSetID.self)) == ["users"])

            let statistics = try await f.sql(try reference(Reference.tenantStatistics, acme)).single()
            // ann, cat and eve are active members (dan, a former owner, too); ben was removed.
            #expect(try statistics.decode(Int.self, column: "user_count") == 4)
            #expect(try statistics.decode(Int.self, column: "permission_set_count") == 2)
            try await f.sql(try reference(Reference.checkTenantAccess, [:]))
            #expect(try await f.sql("SELECT check_tenant_access($1, $2)", [tenant, newOwner]).scalar(Bool.self))
            #expect(try await Reliability.staleAccess(f.connection) == [])
        }
    }
}


// MARK: - Helpers

/// The SQL examples of `reference/tenant-management.md`, verbatim, in the order the document gives
/// them. Placeholders such as `'tenant-uuid'` are replaced by ``reference(_:_:sourceLocation:)``.
enum Reference {
    static let createTenant = """
        SELECT auth.create_tenant(
        _name := 'Acme Corporation',
        _code := 'ACME',
        _owner_user_id := 'user-uuid-here'
        );
        """
    static let updateTenant = """
        SELECT auth.update_tenant(
        _tenant_id := 'tenant-uuid',
        _name := 'Acme Corp International',
        _code := 'ACME-INTL'
        );
        """
    static let deactivateTenant = """
        UPDATE auth.tenant
        SET is_active = false,
        updated_at = now()
        WHERE tenant_id = 'tenant-uuid';
        """
    static let reactivateTenant = """
        UPDATE auth.tenant
        SET is_active = true,
        updated_at = now()
        WHERE tenant_id = 'tenant-uuid';
        """
    static let addUserByInsert = """
        INSERT INTO auth.tenant_user (tenant_id, user_id)
        VALUES ('tenant-uuid', 'user-uuid');
        """
    static let addUserByFunction = """
        SELECT auth.add_user_to_tenant(
        _tenant_id := 'tenant-uuid',
        _user_id := 'user-uuid'
        );
        """
    static let softRemoveUser = """
        UPDATE auth.tenant_user
        SET is_active = false
        WHERE tenant_id = 'tenant-uuid'
        AND user_id = 'user-uuid';
        """
    static let hardRemoveUser = """
        DELETE FROM auth.tenant_user
        WHERE tenant_id = 'tenant-uuid'
        AND user_id = 'user-uuid';
        """
    static let listTenantUsers = """
        SELECT
        tu.user_id,
        ui.username,
        ui.email,
        ui.display_name,
        tu.joined_at
        FROM auth.tenant_user tu
        JOIN auth.user_info ui ON tu.user_id = ui.user_id
        WHERE tu.tenant_id = 'tenant-uuid'
        AND tu.is_active = true
        AND ui.is_active = true
        ORDER BY ui.display_name;
        """
    static let assignTenantOwner = """
        SELECT auth.assign_tenant_owner(
        _tenant_id := 'tenant-uuid',
        _user_id := 'owner-user-uuid'
        );
        """
    static let transferOwnership = """
        UPDATE auth.owner
        SET user_id = 'new-owner-uuid'
        WHERE tenant_id = 'tenant-uuid';
        """
    static let queryTenantOwners = """
        SELECT
        t.name as tenant_name,
        u.display_name as owner_name,
        u.email as owner_email
        FROM auth.tenant t
        JOIN auth.owner o ON t.tenant_id = o.tenant_id
        JOIN auth.user_info u ON o.user_id = u.user_id
        WHERE t.tenant_id = 'tenant-uuid';
        """
    static let createPermSet = """
        SELECT auth.create_perm_set(
        _tenant_id := 'tenant-uuid',
        _code := 'TENANT_ADMIN',
        _name := 'Tenant Administrator',
        _description := 'Full administrative access within tenant'
        );
        """
    static let addPermSetPermissions = """
        SELECT auth.add_perm_set_permissions(
        _tenant_id := 'tenant-uuid',
        _perm_set_code := 'TENANT_ADMIN',
        _perm_codes := ARRAY['users', 'groups', 'permissions']
        );
        """
    static let setPreference = """
        INSERT INTO auth.user_tenant_preference
        (user_id, tenant_id, preference_key, preference_value)
        VALUES
        ('user-uuid', 'tenant-uuid', 'theme', 'dark')
        ON CONFLICT (user_id, tenant_id, preference_key)
        DO UPDATE SET preference_value = EXCLUDED.preference_value;
        """
    static let getPreferences = """
        SELECT preference_key, preference_value
        FROM auth.user_tenant_preference
        WHERE user_id = 'user-uuid'
        AND tenant_id = 'tenant-uuid';
        """
    static let hasPermission = """
        SELECT auth.has_permission(
        _tenant_id := 'tenant-uuid',
        _user_id := 'user-uuid',
        _perm_code := 'users.create_user'
        );
        """
    static let tenantGroups = """
        SELECT * FROM auth.user_group
        WHERE tenant_id = 'tenant-uuid';
        """
    static let tenantAssignments = """
        SELECT * FROM auth.permission_assignment
        WHERE tenant_id = 'tenant-uuid';
        """
    static let initialSetup = """
        DO $$
        DECLARE
        v_tenant_id uuid;
        v_admin_role_id uuid;
        BEGIN
        -- Create tenant
        v_tenant_id := auth.create_tenant(
        'New Company',
        'NEWCO',
        'admin-user-uuid'
        );
        -- Create default groups
        v_admin_role_id := auth.create_user_group(
        v_tenant_id,
        'ADMINS',
        'Administrators'
        );
        -- Create default permission sets
        PERFORM auth.create_perm_set(
        v_tenant_id,
        'FULL_ACCESS',
        'Full Access',
        'Complete system access'
        );
        -- Assign permissions to admin group
        PERFORM auth.assign_permission(
        v_tenant_id,
        NULL,
        v_admin_role_id,
        'FULL_ACCESS',
        NULL
        );
        END $$;
        """
    static let duplicatePermSet = """
        SELECT auth.duplicate_perm_set(
        _from_tenant_id := 'source-tenant-uuid',
        _to_tenant_id := 'target-tenant-uuid',
        _perm_set_code := 'STANDARD_USER'
        );
        """
    static let tenantStatistics = """
        SELECT
        t.name as tenant_name,
        COUNT(DISTINCT tu.user_id) as user_count,
        COUNT(DISTINCT ug.user_group_id) as group_count,
        COUNT(DISTINCT ps.perm_set_id) as permission_set_count
        FROM auth.tenant t
        LEFT JOIN auth.tenant_user tu ON t.tenant_id = tu.tenant_id AND tu.is_active = true
        LEFT JOIN auth.user_group ug ON t.tenant_id = ug.tenant_id
        LEFT JOIN auth.perm_set ps ON t.tenant_id = ps.tenant_id
        WHERE t.tenant_id = 'tenant-uuid'
        GROUP BY t.tenant_id, t.name;
        """
    static let checkTenantAccess = """
        CREATE OR REPLACE FUNCTION check_tenant_access(
        _tenant_id uuid,
        _user_id uuid
        ) RETURNS boolean AS $$
        BEGIN
        RETURN EXISTS (
        SELECT 1 FROM auth.tenant_user
        WHERE tenant_id = _tenant_id
        AND user_id = _user_id
        AND is_active = true
        );
        END;
        $$ LANGUAGE plpgsql;
        """
}


/// The reference's example `sql` with each quoted placeholder (`'tenant-uuid'`) replaced by the
/// quoted uuid given for it. Fails when a placeholder is not in the text or one is left over.
private func reference(_ sql: String, _ values: [String: any EntityID],
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    var text = sql
    for (placeholder, id) in values {
        try #require(text.contains("'\(placeholder)'"), "placeholder \(placeholder) not in the example",
                     sourceLocation: sourceLocation)
        text = text.replacingOccurrences(of: "'\(placeholder)'", with: "'\(id)'")
    }
    let leftover = text.range(of: #"'[a-z-]*uuid[a-z-]*'"#, options: .regularExpression)
    try #require(leftover == nil, "unreplaced placeholder \(leftover.map { String(text[$0]) } ?? "")",
                 sourceLocation: sourceLocation)
    return text
}

/// The tenant's owners (not group owners).
private func ownerIDs(_ f: AuthFixture, _ tenant: TenantID) async throws -> [UserID] {
    try await f.sql("SELECT user_id FROM auth.owner WHERE tenant_id = $1 AND user_group_id IS NULL ORDER BY user_id", [tenant])
        .map { try $0.decode(UserID.self, at: 0) }
}

private func isActive(_ f: AuthFixture, _ tenant: TenantID) async throws -> Bool {
    try await f.sql("SELECT is_active FROM auth.tenant WHERE tenant_id = $1", [tenant]).scalar(Bool.self)
}

/// The codes in a permission set, sorted.
private func permSetCodes(_ f: AuthFixture, _ permSet: PermSetID) async throws -> [String] {
    try await f.sql("""
        SELECT p.code::text FROM auth.perm_set_permission sp JOIN auth.permission p USING (permission_id)
         WHERE sp.perm_set_id = $1 ORDER BY 1
        """, [permSet]).map { try $0.decode(String.self, at: 0) }
}
