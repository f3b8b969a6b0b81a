import Foundation
import Permissions
import PQ
import Testing

/// The checks (`has_permission`, `has_permissions`, `require_permission`, `get_user_permissions`,
/// `check_tenant_access`) and every rule of DESIGN.md §3 / issue 3 they implement.
@Suite("Permission checks")
struct CheckTests {
    // MARK: - Hierarchy

    @Test("holding a code grants every code below it, at any depth")
    func parentGrantsDescendants() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.catalogue(["users.create_user", "users.admin.reset_password", "groups.create_group"])
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("users"))

            for code in ["users", "users.create_user", "users.admin", "users.admin.reset_password"] {
                #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: code), "\(code)")
                try await f.auth.requirePermission(tenant: tenant, user: user, code: code)
            }
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "groups"))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "groups.create_group"))
            #expect(try await f.auth.userPermissions(tenant: tenant, user: user)
                    == ["users", "users.admin", "users.admin.reset_password", "users.create_user"])
        }
    }

    @Test("holding a code never grants its parent or its siblings")
    func childNeverGrantsParent() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.catalogue(["users.create_user", "users.delete_user", "users.create_user.bulk"])
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("users.create_user"))

            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_user"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_user.bulk"))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "users"))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "users.delete_user"))
            #expect(try await !f.auth.hasPermissions(tenant: tenant, user: user, codes: ["users", "users.delete_user"]))
            await expectError(.insufficientPrivilege) {
                try await f.auth.requirePermission(tenant: tenant, user: user, code: "users")
            }
            #expect(try await f.auth.userPermissions(tenant: tenant, user: user)
                    == ["users.create_user", "users.create_user.bulk"])
        }
    }

    @Test("a code added to the catalogue below a held code is granted at once")
    func newDescendantIsGranted() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.catalogue(["reports"])
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("reports"))

            _ = try await f.auth.createPermission(code: "reports.export.csv", name: "Export CSV")
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "reports.export.csv"))
            #expect(try await f.auth.userPermissions(tenant: tenant, user: user)
                    == ["reports", "reports.export", "reports.export.csv"])
        }
    }

    // MARK: - Unknown, malformed and missing codes

    @Test("a code not in the catalogue raises QN003 in every check, even for a user who holds everything")
    func unknownCodeRaises() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let member = try await f.member(of: tenant)
            try await f.catalogue(["users.create_user"])
            try await f.auth.assignPermission(tenant: tenant, to: .user(member), grant: .permission("users"))

            for user in [owner, member] {
                // "users.create_user" is held; the typo next to it must still fail loudly.
                await expectError(.unknownPermission) {
                    _ = try await f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_usr")
                }
                await expectError(.unknownPermission) {
                    _ = try await f.auth.hasPermissions(tenant: tenant, user: user,
                                                        codes: ["users.create_user", "users.create_usr"])
                }
                await expectError(.unknownPermission) {
                    _ = try await f.auth.hasPermissions(tenant: tenant, user: user,
                                                        codes: ["users.create_usr", "users.create_user"], requireAll: true)
                }
                await expectError(.unknownPermission) {
                    try await f.auth.requirePermission(tenant: tenant, user: user, code: "billing")
                }
            }
            // Also for someone who holds nothing at all, and in a tenant they are not in.
            let stranger = try await f.user("stranger")
            await expectError(.unknownPermission) {
                _ = try await f.auth.hasPermission(tenant: tenant, user: stranger, code: "billing")
            }
        }
    }

    @Test("a malformed code raises QI002 in every check")
    func malformedCodeRaises() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            try await f.catalogue(["users.create_user"])

            for code in ["Users.Create_User", "users..create_user", "users.", ".users", "users-create", "users create"] {
                await expectError(.invalidPermissionCode) {
                    _ = try await f.auth.hasPermission(tenant: tenant, user: owner, code: code)
                }
                await expectError(.invalidPermissionCode) {
                    _ = try await f.auth.hasPermissions(tenant: tenant, user: owner, codes: ["users", code])
                }
                await expectError(.invalidPermissionCode) {
                    _ = try await f.auth.hasPermissions(tenant: tenant, user: owner, codes: [code], requireAll: true)
                }
                await expectError(.invalidPermissionCode) {
                    try await f.auth.requirePermission(tenant: tenant, user: owner, code: code)
                }
            }
        }
    }

    @Test("an empty code, an empty list or a NULL argument raises QI001")
    func missingArgumentsRaise() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            try await f.catalogue(["users"])

            await expectError(.invalidArgument) {
                _ = try await f.auth.hasPermission(tenant: tenant, user: owner, code: "")
            }
            await expectError(.invalidArgument) {
                try await f.auth.requirePermission(tenant: tenant, user: owner, code: "  ")
            }
            await expectError(.invalidArgument) {
                _ = try await f.auth.hasPermissions(tenant: tenant, user: owner, codes: [])
            }
            // NULLs cannot be expressed through the typed API; a SQL caller can pass them.
            let nullCalls: [(String, [any PostgresEncodable])] = [
                ("SELECT auth.has_permission(NULL, $1, 'users')", [owner]),
                ("SELECT auth.has_permission($1, NULL, 'users')", [tenant]),
                ("SELECT auth.has_permission($1, $2, NULL)", [tenant, owner]),
                ("SELECT auth.has_permissions($1, $2, NULL)", [tenant, owner]),
                ("SELECT auth.has_permissions($1, $2, ARRAY['users', NULL])", [tenant, owner]),
                ("SELECT auth.has_permissions($1, $2, ARRAY['users'], NULL)", [tenant, owner]),
                ("SELECT auth.require_permission(NULL, $1, 'users')", [owner]),
                ("SELECT * FROM auth.get_user_permissions(NULL, $1)", [owner]),
                ("SELECT * FROM auth.get_user_permissions($1, NULL)", [tenant]),
                ("SELECT auth.check_tenant_access(NULL, $1)", [owner]),
                ("SELECT auth.check_tenant_access($1, NULL)", [tenant]),
            ]
            for (sql, binds) in nullCalls {
                await expectError(.invalidArgument) { try await authSQL(f, sql, binds) }
            }
        }
    }

    // MARK: - Denials

    @Test("an inactive tenant denies every check, the owner's included, until reactivated")
    func inactiveTenantDenies() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.auth.deactivateTenant(s.tenant)
            for user in [s.owner, s.member] {
                try await s.expectDenied(user)
                #expect(try await !f.auth.checkTenantAccess(tenant: s.tenant, user: user))
            }
            try await f.auth.activateTenant(s.tenant)
            try await s.expectGranted(s.member)
            try await s.expectOwnerPasses()
        }
    }

    @Test("an inactive user is denied in every tenant until reactivated")
    func inactiveUserDenies() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            let other = try await f.tenant("Other")
            try await f.auth.addUserToTenant(other, user: s.member)
            try await f.auth.assignPermission(tenant: other, to: .user(s.member), grant: .permission("users"))
            #expect(try await f.auth.hasPermission(tenant: other, user: s.member, code: "users.create_user"))

            try await f.auth.deactivateUser(s.member)
            try await s.expectDenied(s.member)
            #expect(try await !f.auth.hasPermission(tenant: other, user: s.member, code: "users.create_user"))
            #expect(try await !f.auth.checkTenantAccess(tenant: s.tenant, user: s.member))
            #expect(try await !f.auth.checkTenantAccess(tenant: other, user: s.member))
            // Other users of the tenant are unaffected.
            try await s.expectOwnerPasses()

            try await f.auth.activateUser(s.member)
            try await s.expectGranted(s.member)
            #expect(try await f.auth.hasPermission(tenant: other, user: s.member, code: "users.create_user"))
        }
    }

    @Test("an inactive tenant owner fails every check of the tenant")
    func inactiveOwnerDenied() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.auth.deactivateUser(s.owner)
            try await s.expectDenied(s.owner)
            try await f.auth.activateUser(s.owner)
            try await s.expectOwnerPasses()
        }
    }

    @Test("an inactive membership denies every check; reactivating it restores the grants it kept")
    func inactiveMembershipDenies() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.auth.removeUserFromTenant(s.tenant, user: s.member)
            try await s.expectDenied(s.member)
            #expect(try await !f.auth.checkTenantAccess(tenant: s.tenant, user: s.member))

            try await f.auth.addUserToTenant(s.tenant, user: s.member)
            try await s.expectGranted(s.member)
            #expect(try await f.auth.checkTenantAccess(tenant: s.tenant, user: s.member))
        }
    }

    @Test("a user without a membership is denied; a hard removal drops the grants for good")
    func missingMembershipDenies() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            let outsider = try await f.user("outsider")
            try await s.expectDenied(outsider)
            #expect(try await !f.auth.checkTenantAccess(tenant: s.tenant, user: outsider))

            try await f.auth.removeUserFromTenant(s.tenant, user: s.member, hard: true)
            try await s.expectDenied(s.member)
            #expect(try await !f.auth.checkTenantAccess(tenant: s.tenant, user: s.member))
            // Joining again starts from nothing: the direct grant and the group membership went with the row.
            try await f.auth.addUserToTenant(s.tenant, user: s.member)
            #expect(try await f.auth.checkTenantAccess(tenant: s.tenant, user: s.member))
            try await s.expectDenied(s.member)
        }
    }

    @Test("a check for an unknown tenant or user is a plain no")
    func unknownIdsDeny() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            let nobody = UserID(UUID())
            let nowhere = TenantID(UUID())
            try await s.expectDenied(nobody)
            #expect(try await !f.auth.hasPermission(tenant: nowhere, user: s.owner, code: "users"))
            #expect(try await f.auth.userPermissions(tenant: nowhere, user: s.owner).isEmpty)
            #expect(try await !f.auth.checkTenantAccess(tenant: nowhere, user: s.owner))
            #expect(try await !f.auth.checkTenantAccess(tenant: s.tenant, user: nobody))
        }
    }

    @Test("a grant through an inactive group counts for nothing, other grants still do")
    func inactiveGroupDenies() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.catalogue(["users.create_user", "reports.view"])
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "EDITORS", name: "Editors")
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permission("users"))
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("reports.view"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_user"))

            try await f.auth.deactivateUserGroup(tenant: tenant, group: group)
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_user"))
            #expect(try await !f.auth.hasPermissions(tenant: tenant, user: user, codes: ["users", "users.create_user"]))
            await expectError(.insufficientPrivilege) {
                try await f.auth.requirePermission(tenant: tenant, user: user, code: "users")
            }
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "reports.view"))
            #expect(try await f.auth.userPermissions(tenant: tenant, user: user) == ["reports.view"])
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: user))

            try await f.auth.activateUserGroup(tenant: tenant, group: group)
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_user"))
        }
    }

    @Test("a grant in one tenant, direct or through a group, gives nothing in another")
    func grantInAnotherTenantDenies() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            let other = try await f.tenant("Other")
            try await f.auth.addUserToTenant(other, user: s.member)
            try await f.auth.addUserToTenant(other, user: s.groupMember)
            #expect(try await f.auth.checkTenantAccess(tenant: other, user: s.member))

            for user in [s.member, s.groupMember] {
                #expect(try await !f.auth.hasPermission(tenant: other, user: user, code: "users.create_user"))
                #expect(try await !f.auth.hasPermissions(tenant: other, user: user, codes: ["users", "reports.view"]))
                #expect(try await f.auth.userPermissions(tenant: other, user: user).isEmpty)
                await expectError(.insufficientPrivilege) {
                    try await f.auth.requirePermission(tenant: other, user: user, code: "users.create_user")
                }
            }
            // The owner of one tenant is a plain member of another.
            try await f.auth.addUserToTenant(other, user: s.owner)
            #expect(try await !f.auth.hasPermission(tenant: other, user: s.owner, code: "users"))
            #expect(try await f.auth.userPermissions(tenant: other, user: s.owner).isEmpty)
            // And the grants still hold where they were made.
            try await s.expectGranted(s.member)
            try await s.expectGranted(s.groupMember)
        }
    }

    // MARK: - Owners

    @Test("the tenant owner passes every check in the tenant without any assignment")
    func tenantOwnerPasses() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            #expect(try await f.sql("SELECT count(*) FROM auth.permission_assignment WHERE user_id = $1", [s.owner])
                        .scalar(Int.self) == 0)
            try await s.expectOwnerPasses()
            // Codes added later are covered too.
            _ = try await f.auth.createPermission(code: "billing.refund", name: "Refund")
            #expect(try await f.auth.hasPermission(tenant: s.tenant, user: s.owner, code: "billing.refund"))
            #expect(try await f.auth.userPermissions(tenant: s.tenant, user: s.owner) == s.allCodes())
        }
    }

    @Test("ownership passes with a transfer: the old owner is denied, the new one passes")
    func ownershipTransfer() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.auth.transferTenantOwnership(s.tenant, to: s.groupMember)
            #expect(try await !f.auth.hasPermission(tenant: s.tenant, user: s.owner, code: "users"))
            #expect(try await f.auth.userPermissions(tenant: s.tenant, user: s.owner).isEmpty)
            #expect(try await f.auth.checkTenantAccess(tenant: s.tenant, user: s.owner))
            #expect(try await f.auth.hasPermission(tenant: s.tenant, user: s.groupMember, code: "billing"))
            #expect(try await f.auth.userPermissions(tenant: s.tenant, user: s.groupMember) == s.allCodes())
        }
    }

    @Test("owning a group grants nothing, in the group's tenant or elsewhere")
    func groupOwnerDoesNotPass() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            let groupOwner = try await f.member(of: s.tenant, "group-owner")
            try await f.auth.assignGroupOwner(tenant: s.tenant, group: s.group, user: groupOwner)
            #expect(try await f.auth.isGroupOwner(tenant: s.tenant, group: s.group, user: groupOwner))

            // Not even what the owned group grants its members.
            try await s.expectDenied(groupOwner)
            #expect(try await !f.auth.hasPermission(tenant: s.tenant, user: groupOwner, code: "billing"))
            #expect(try await f.auth.checkTenantAccess(tenant: s.tenant, user: groupOwner))
        }
    }

    // MARK: - Grant paths

    @Test("permissions arrive through a group's set, a group's single code, a direct set and a direct code",
          arguments: GrantPath.allCases)
    func grantPaths(path: GrantPath) async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            let bystander = try await f.member(of: tenant, "bystander")
            try await f.catalogue(["users.create_user", "users.delete_user", "reports.view"])
            _ = try await f.auth.createPermSet(tenant: tenant, code: "USER_ADMIN", name: "User admin")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "USER_ADMIN", codes: ["users.create_user"])
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_user"))

            switch path {
            case .groupSet: try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permSet("USER_ADMIN"))
            case .groupPermission: try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permission("users.create_user"))
            case .directSet: try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permSet("USER_ADMIN"))
            case .directPermission: try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("users.create_user"))
            }

            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "users.create_user"))
            try await f.auth.requirePermission(tenant: tenant, user: user, code: "users.create_user")
            #expect(try await f.auth.hasPermissions(tenant: tenant, user: user, codes: ["reports.view", "users.create_user"]))
            #expect(try await !f.auth.hasPermissions(tenant: tenant, user: user, codes: ["reports.view", "users.create_user"],
                                                     requireAll: true))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "users.delete_user"))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "users"))
            #expect(try await f.auth.userPermissions(tenant: tenant, user: user) == ["users.create_user"])
            // Nobody else got it.
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: bystander, code: "users.create_user"))
        }
    }

    enum GrantPath: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case groupSet, groupPermission, directSet, directPermission
        var testDescription: String { rawValue }
    }

    @Test("effective permissions are the union of direct and group grants, expanded, sorted and without duplicates")
    func effectivePermissionsAreTheUnion() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.catalogue(["users.create_user", "users.delete_user", "reports.view", "reports.export", "billing"])
            _ = try await f.auth.createPermSet(tenant: tenant, code: "REPORTS", name: "Reports")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "REPORTS", codes: ["reports.view", "reports.export"])
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permSet("REPORTS"))
            try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permission("users.create_user"))
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("users"))
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("reports.view"))

            #expect(try await f.auth.userPermissions(tenant: tenant, user: user)
                    == ["reports.export", "reports.view", "users", "users.create_user", "users.delete_user"])
        }
    }

    // MARK: - has_permissions, require_permission, check_tenant_access

    @Test("has_permissions is true for any held code, or with require_all only when every code is held")
    func hasPermissionsAnyAll() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.catalogue(["users.create_user", "users.delete_user", "reports.view"])
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("users"))

            let held = ["users.create_user", "users.delete_user"]
            let mixed = ["reports.view", "users.create_user"]
            #expect(try await f.auth.hasPermissions(tenant: tenant, user: user, codes: held))
            #expect(try await f.auth.hasPermissions(tenant: tenant, user: user, codes: held, requireAll: true))
            #expect(try await f.auth.hasPermissions(tenant: tenant, user: user, codes: mixed))
            #expect(try await !f.auth.hasPermissions(tenant: tenant, user: user, codes: mixed, requireAll: true))
            #expect(try await !f.auth.hasPermissions(tenant: tenant, user: user, codes: ["reports.view"]))
            #expect(try await !f.auth.hasPermissions(tenant: tenant, user: user, codes: ["reports.view"], requireAll: true))
            #expect(try await f.auth.hasPermissions(tenant: tenant, user: user, codes: ["users", "users"], requireAll: true))
            // The same through SQL, with the default for _require_all.
            #expect(try await f.sql("SELECT auth.has_permissions($1, $2, ARRAY['reports.view', 'users.create_user'])",
                                    [tenant, user]).scalar(Bool.self))
        }
    }

    @Test("require_permission returns when the code is held and otherwise raises 42501 naming user, tenant and code")
    func requirePermissionDenial() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.auth.requirePermission(tenant: s.tenant, user: s.member, code: "users.create_user")

            let error = try await #require(throws: PermissionsError.self) {
                try await f.auth.requirePermission(tenant: s.tenant, user: s.member, code: "billing")
            }
            #expect(error.code == .insufficientPrivilege)
            #expect(error.underlying.code == .insufficientPrivilege)
            let detail = try #require(error.detail)
            #expect(detail.contains(s.member.description))
            #expect(detail.contains(s.tenant.description))
            #expect(detail.contains("billing"))
            #expect(!detail.contains(s.owner.description))
        }
    }

    @Test("require_permission aborts the caller's statement, so a function can guard its writes with it")
    func requirePermissionGuardsWrites() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.sql("CREATE TABLE public.guarded (note text)")
            let guarded = """
                INSERT INTO public.guarded (note)
                SELECT 'written' FROM (SELECT auth.require_permission($1, $2, 'billing')) AS guard
                """
            await expectError(.insufficientPrivilege) { try await authSQL(f, guarded, [s.tenant, s.member]) }
            #expect(try await f.sql("SELECT count(*) FROM public.guarded").scalar(Int.self) == 0)
            try await authSQL(f, guarded, [s.tenant, s.owner])
            #expect(try await f.sql("SELECT count(*) FROM public.guarded").scalar(Int.self) == 1)
        }
    }

    @Test("check_tenant_access is true exactly for a live membership, with or without permissions")
    func checkTenantAccess() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let other = try await f.tenant("Other")
            let user = try await f.member(of: tenant)
            #expect(try await f.auth.userPermissions(tenant: tenant, user: user).isEmpty)
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: user))
            #expect(try await !f.auth.checkTenantAccess(tenant: other, user: user))

            try await f.auth.removeUserFromTenant(tenant, user: user)
            #expect(try await !f.auth.checkTenantAccess(tenant: tenant, user: user))
            try await f.auth.addUserToTenant(tenant, user: user)
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: user))
            try await f.auth.deactivateTenant(tenant)
            #expect(try await !f.auth.checkTenantAccess(tenant: tenant, user: user))
        }
    }

    // MARK: - Read-only transactions

    @Test("every check works inside BEGIN READ ONLY")
    func checksInReadOnlyTransaction() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.connection.withTransaction(begin: "BEGIN READ ONLY") { connection in
                #expect(try await connection.query("SELECT current_setting('transaction_read_only')").scalar(String.self) == "on")
                let auth = AuthClient(connection)
                #expect(try await auth.hasPermission(tenant: s.tenant, user: s.member, code: "users.create_user"))
                #expect(try await !auth.hasPermission(tenant: s.tenant, user: s.member, code: "billing"))
                #expect(try await auth.hasPermissions(tenant: s.tenant, user: s.groupMember, codes: ["billing", "reports.view"]))
                #expect(try await !auth.hasPermissions(tenant: s.tenant, user: s.groupMember, codes: ["billing", "reports.view"],
                                                       requireAll: true))
                try await auth.requirePermission(tenant: s.tenant, user: s.owner, code: "billing")
                #expect(try await auth.userPermissions(tenant: s.tenant, user: s.groupMember) == ["reports", "reports.view"])
                #expect(try await auth.checkTenantAccess(tenant: s.tenant, user: s.member))
            }
        }
    }

    @Test("checks never write: a transaction that only checks is never given a transaction id")
    func checksNeverWrite() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.connection.withTransaction { connection in
                let auth = AuthClient(connection)
                for user in [s.owner, s.member, s.groupMember] {
                    _ = try await auth.hasPermission(tenant: s.tenant, user: user, code: "users.create_user")
                    _ = try await auth.hasPermissions(tenant: s.tenant, user: user, codes: ["billing", "reports"], requireAll: true)
                    _ = try await auth.userPermissions(tenant: s.tenant, user: user)
                    _ = try await auth.checkTenantAccess(tenant: s.tenant, user: user)
                }
                try await auth.requirePermission(tenant: s.tenant, user: s.owner, code: "users")
                #expect(try await connection.query("SELECT pg_current_xact_id_if_assigned() IS NULL").scalar(Bool.self))
            }
        }
    }

    // MARK: - Direct DML, checked in the same transaction

    @Test("UPDATE auth.tenant SET is_active is reflected by the next check in the transaction")
    func dmlTenantActive() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.connection.withTransaction { c in
                try await c.query("UPDATE auth.tenant SET is_active = false, updated_at = now() WHERE tenant_id = $1", [s.tenant])
                try await s.expectDenied(s.member, on: c)
                try await s.expectDenied(s.owner, on: c)
                #expect(try await !AuthClient(c).checkTenantAccess(tenant: s.tenant, user: s.member))
                try await c.query("UPDATE auth.tenant SET is_active = true WHERE tenant_id = $1", [s.tenant])
                try await s.expectGranted(s.member, on: c)
                try await s.expectOwnerPasses(on: c)
            }
        }
    }

    @Test("UPDATE auth.user_info SET is_active is reflected by the next check in the transaction")
    func dmlUserActive() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.connection.withTransaction { c in
                try await c.query("UPDATE auth.user_info SET is_active = false WHERE user_id = $1", [s.member])
                try await s.expectDenied(s.member, on: c)
                try await s.expectGranted(s.groupMember, on: c)
                try await c.query("UPDATE auth.user_info SET is_active = true WHERE user_id = $1", [s.member])
                try await s.expectGranted(s.member, on: c)
            }
        }
    }

    @Test("INSERT INTO auth.tenant_user, then into a group and auth.owner, is reflected by the next check")
    func dmlInsertMembership() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            let newcomer = try await f.user("newcomer")
            try await f.connection.withTransaction { c in
                let auth = AuthClient(c)
                try await c.query("INSERT INTO auth.tenant_user (tenant_id, user_id) VALUES ($1, $2)", [s.tenant, newcomer])
                #expect(try await auth.checkTenantAccess(tenant: s.tenant, user: newcomer))
                try await s.expectDenied(newcomer, on: c)
                try await c.query("INSERT INTO auth.user_group_member (tenant_id, user_group_id, user_id) VALUES ($1, $2, $3)",
                                  [s.tenant, s.group, newcomer])
                #expect(try await auth.hasPermission(tenant: s.tenant, user: newcomer, code: "reports.view"))
                #expect(try await !auth.hasPermission(tenant: s.tenant, user: newcomer, code: "billing"))
                try await c.query("INSERT INTO auth.owner (tenant_id, user_id) VALUES ($1, $2)", [s.tenant, newcomer])
                #expect(try await auth.hasPermission(tenant: s.tenant, user: newcomer, code: "billing"))
            }
        }
    }

    @Test("UPDATE auth.tenant_user SET is_active is reflected by the next check, the owner's included")
    func dmlMembershipActive() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.connection.withTransaction { c in
                try await c.query("UPDATE auth.tenant_user SET is_active = false WHERE tenant_id = $1 AND user_id = ANY ($2)",
                                  [s.tenant, [s.member, s.owner]])
                try await s.expectDenied(s.member, on: c)
                try await s.expectDenied(s.owner, on: c)
                #expect(try await !AuthClient(c).checkTenantAccess(tenant: s.tenant, user: s.member))
                try await s.expectGranted(s.groupMember, on: c)
                try await c.query("UPDATE auth.tenant_user SET is_active = true WHERE tenant_id = $1", [s.tenant])
                try await s.expectGranted(s.member, on: c)
                try await s.expectOwnerPasses(on: c)
            }
        }
    }

    @Test("DELETE FROM auth.tenant_user is reflected by the next check, and takes the grants with it")
    func dmlDeleteMembership() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.connection.withTransaction { c in
                let auth = AuthClient(c)
                try await c.query("DELETE FROM auth.tenant_user WHERE tenant_id = $1 AND user_id = ANY ($2)",
                                  [s.tenant, [s.member, s.groupMember, s.owner]])
                for user in [s.member, s.groupMember, s.owner] {
                    try await s.expectDenied(user, on: c)
                    #expect(try await !auth.checkTenantAccess(tenant: s.tenant, user: user))
                }
                try await c.query("INSERT INTO auth.tenant_user (tenant_id, user_id) VALUES ($1, $2)", [s.tenant, s.member])
                #expect(try await auth.checkTenantAccess(tenant: s.tenant, user: s.member))
                try await s.expectDenied(s.member, on: c)
            }
        }
    }

    @Test("UPDATE auth.owner SET user_id hands every check to the new owner at once")
    func dmlTransferOwner() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.connection.withTransaction { c in
                let auth = AuthClient(c)
                try await c.query("UPDATE auth.owner SET user_id = $1 WHERE tenant_id = $2", [s.member, s.tenant])
                #expect(try await !auth.hasPermission(tenant: s.tenant, user: s.owner, code: "users"))
                #expect(try await auth.userPermissions(tenant: s.tenant, user: s.owner).isEmpty)
                #expect(try await auth.hasPermission(tenant: s.tenant, user: s.member, code: "billing"))
                #expect(try await auth.userPermissions(tenant: s.tenant, user: s.member) == s.allCodes(on: c))
            }
        }
    }

    @Test("DELETE FROM auth.owner ends the owner's pass at once")
    func dmlDeleteOwner() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.connection.withTransaction { c in
                try await c.query("DELETE FROM auth.owner WHERE tenant_id = $1 AND user_group_id IS NULL", [s.tenant])
                try await s.expectDenied(s.owner, on: c)
                #expect(try await AuthClient(c).checkTenantAccess(tenant: s.tenant, user: s.owner))
            }
        }
    }

    @Test("DELETE of a group member row is reflected by the next check")
    func dmlDeleteGroupMember() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.connection.withTransaction { c in
                try await c.query("DELETE FROM auth.user_group_member WHERE user_group_id = $1 AND user_id = $2",
                                  [s.group, s.groupMember])
                try await s.expectDenied(s.groupMember, on: c)
                try await s.expectGranted(s.member, on: c)
            }
        }
    }

    @Test("DELETE FROM and INSERT INTO auth.perm_set_permission are reflected by the next check")
    func dmlPermSetPermission() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.connection.withTransaction { c in
                let auth = AuthClient(c)
                try await c.query("""
                    DELETE FROM auth.perm_set_permission sp
                     USING auth.perm_set ps, auth.permission p
                     WHERE ps.perm_set_id = sp.perm_set_id AND p.permission_id = sp.permission_id
                       AND ps.tenant_id = $1 AND ps.code = 'REPORTER' AND p.code::text = 'reports'
                    """, [s.tenant])
                #expect(try await !auth.hasPermission(tenant: s.tenant, user: s.groupMember, code: "reports.view"))
                #expect(try await auth.userPermissions(tenant: s.tenant, user: s.groupMember).isEmpty)
                try await c.query("""
                    INSERT INTO auth.perm_set_permission (perm_set_id, permission_id)
                    SELECT ps.perm_set_id, p.permission_id FROM auth.perm_set ps, auth.permission p
                     WHERE ps.tenant_id = $1 AND ps.code = 'REPORTER' AND p.code::text = 'billing'
                    """, [s.tenant])
                #expect(try await auth.hasPermission(tenant: s.tenant, user: s.groupMember, code: "billing"))
                #expect(try await !auth.hasPermission(tenant: s.tenant, user: s.groupMember, code: "reports.view"))
            }
        }
    }

    @Test("UPDATE auth.user_group SET is_active is reflected by the next check")
    func dmlGroupActive() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.connection.withTransaction { c in
                try await c.query("UPDATE auth.user_group SET is_active = false WHERE user_group_id = $1", [s.group])
                try await s.expectDenied(s.groupMember, on: c)
                #expect(try await AuthClient(c).checkTenantAccess(tenant: s.tenant, user: s.groupMember))
                try await c.query("UPDATE auth.user_group SET is_active = true WHERE user_group_id = $1", [s.group])
                try await s.expectGranted(s.groupMember, on: c)
            }
        }
    }

    @Test("DELETE FROM auth.user_group and DELETE FROM auth.perm_set are reflected by the next check")
    func dmlDeleteGroupAndSet() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.connection.withTransaction { c in
                try await c.query("DELETE FROM auth.user_group WHERE user_group_id = $1", [s.group])
                try await s.expectDenied(s.groupMember, on: c)
                try await s.expectGranted(s.member, on: c)
            }
            try await f.connection.withTransaction { c in
                let auth = AuthClient(c)
                try await auth.assignPermission(tenant: s.tenant, to: .user(s.groupMember), grant: .permSet("REPORTER"))
                try await s.expectGranted(s.groupMember, on: c)
                try await c.query("DELETE FROM auth.perm_set WHERE tenant_id = $1 AND code = 'REPORTER'", [s.tenant])
                try await s.expectDenied(s.groupMember, on: c)
            }
        }
    }

    @Test("INSERT, UPDATE and DELETE on auth.permission_assignment are reflected by the next check")
    func dmlAssignment() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.connection.withTransaction { c in
                let auth = AuthClient(c)
                // Move the member's direct grant to the group member.
                try await c.query("UPDATE auth.permission_assignment SET user_id = $1 WHERE tenant_id = $2 AND user_id = $3",
                                  [s.groupMember, s.tenant, s.member])
                try await s.expectDenied(s.member, on: c)
                #expect(try await auth.hasPermission(tenant: s.tenant, user: s.groupMember, code: "users.create_user"))
                try await c.query("DELETE FROM auth.permission_assignment WHERE tenant_id = $1", [s.tenant])
                try await s.expectDenied(s.groupMember, on: c)
                try await c.query("""
                    INSERT INTO auth.permission_assignment (tenant_id, user_group_id, permission_id)
                    SELECT $1, $2, p.permission_id FROM auth.permission p WHERE p.code::text = 'billing'
                    """, [s.tenant, s.group])
                #expect(try await auth.hasPermission(tenant: s.tenant, user: s.groupMember, code: "billing"))
                #expect(try await auth.userPermissions(tenant: s.tenant, user: s.groupMember) == ["billing"])
            }
        }
    }

    @Test("DELETE FROM auth.tenant leaves no access behind")
    func dmlDeleteTenant() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            try await f.connection.withTransaction { c in
                try await c.query("DELETE FROM auth.tenant WHERE tenant_id = $1", [s.tenant])
                for user in [s.owner, s.member, s.groupMember] {
                    try await s.expectDenied(user, on: c)
                    #expect(try await !AuthClient(c).checkTenantAccess(tenant: s.tenant, user: user))
                }
            }
        }
    }

    @Test("a rolled-back change leaves the checks as they were")
    func rolledBackChange() async throws {
        try await AuthFixture.run { f in
            let s = try await Scenario(f)
            struct Rollback: Error {}
            await #expect(throws: Rollback.self) {
                try await f.connection.withTransaction { c in
                    try await c.query("UPDATE auth.tenant_user SET is_active = false WHERE tenant_id = $1", [s.tenant])
                    try await s.expectDenied(s.member, on: c)
                    throw Rollback()
                }
            }
            try await s.expectGranted(s.member)
            try await s.expectGranted(s.groupMember)
            try await s.expectOwnerPasses()
        }
    }
}

// MARK: - Helpers

/// A tenant with an owner, a member holding `users` directly, and a member of group REPORTERS,
/// which holds the set REPORTER = {reports}. The catalogue also has `billing`, held by nobody.
private struct Scenario {
    let f: AuthFixture
    let tenant: TenantID
    let owner: UserID
    let member: UserID
    let groupMember: UserID
    let group: UserGroupID

    init(_ f: AuthFixture) async throws {
        self.f = f
        owner = try await f.user("owner")
        tenant = try await f.tenant(owner: owner)
        member = try await f.member(of: tenant, "member")
        groupMember = try await f.member(of: tenant, "reporter")
        try await f.catalogue(["users.create_user", "reports.view", "billing"])
        try await f.auth.assignPermission(tenant: tenant, to: .user(member), grant: .permission("users"))
        _ = try await f.auth.createPermSet(tenant: tenant, code: "REPORTER", name: "Reporter")
        try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "REPORTER", codes: ["reports"])
        group = try await f.auth.createUserGroup(tenant: tenant, code: "REPORTERS", name: "Reporters")
        try await f.auth.addUserToGroup(tenant: tenant, group: group, user: groupMember)
        try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permSet("REPORTER"))
    }

    /// Every code of the catalogue, sorted as `get_user_permissions` sorts them.
    func allCodes(on connection: Connection? = nil) async throws -> [String] {
        try await (connection ?? f.connection)
            .query("SELECT code::text FROM auth.permission ORDER BY code::text COLLATE \"C\"")
            .map { try $0.decode(String.self, at: 0) }
    }

    /// The member's and the group member's grants work, and only those.
    func expectGranted(_ user: UserID, on connection: Connection? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let auth = connection.map { AuthClient($0) } ?? f.auth
        let expected: [String] = switch user {
        case member: ["users", "users.create_user"]
        case groupMember: ["reports", "reports.view"]
        default: []
        }
        let code = expected.last ?? "users"
        #expect(try await auth.hasPermission(tenant: tenant, user: user, code: code), sourceLocation: sourceLocation)
        #expect(try await auth.hasPermissions(tenant: tenant, user: user, codes: ["billing", code]), sourceLocation: sourceLocation)
        try await auth.requirePermission(tenant: tenant, user: user, code: code)
        #expect(try await !auth.hasPermission(tenant: tenant, user: user, code: "billing"), sourceLocation: sourceLocation)
        #expect(try await auth.userPermissions(tenant: tenant, user: user) == expected, sourceLocation: sourceLocation)
    }

    /// The owner passes every check, including codes nobody was granted.
    func expectOwnerPasses(on connection: Connection? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let auth = connection.map { AuthClient($0) } ?? f.auth
        let codes = try await allCodes(on: connection)
        for code in codes {
            #expect(try await auth.hasPermission(tenant: tenant, user: owner, code: code), "\(code)", sourceLocation: sourceLocation)
        }
        #expect(try await auth.hasPermissions(tenant: tenant, user: owner, codes: codes, requireAll: true), sourceLocation: sourceLocation)
        try await auth.requirePermission(tenant: tenant, user: owner, code: "billing")
        #expect(try await auth.userPermissions(tenant: tenant, user: owner) == codes, sourceLocation: sourceLocation)
        #expect(try await auth.checkTenantAccess(tenant: tenant, user: owner), sourceLocation: sourceLocation)
    }

    /// Every check denies `user` in the tenant, for the codes the scenario grants to anyone.
    func expectDenied(_ user: UserID, on connection: Connection? = nil,
                      sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let auth = connection.map { AuthClient($0) } ?? f.auth
        let granted = ["users", "users.create_user", "reports", "reports.view"]
        for code in granted {
            #expect(try await !auth.hasPermission(tenant: tenant, user: user, code: code), "\(code)", sourceLocation: sourceLocation)
        }
        #expect(try await !auth.hasPermissions(tenant: tenant, user: user, codes: granted), sourceLocation: sourceLocation)
        #expect(try await auth.userPermissions(tenant: tenant, user: user).isEmpty, sourceLocation: sourceLocation)
        // Inside a transaction the error would abort it: raise it under a savepoint.
        try await connection?.query("SAVEPOINT expect_denied")
        await expectError(.insufficientPrivilege, sourceLocation: sourceLocation) {
            try await auth.requirePermission(tenant: tenant, user: user, code: "users.create_user")
        }
        try await connection?.query("ROLLBACK TO SAVEPOINT expect_denied")
    }
}

/// Runs SQL on the fixture's connection, mapping the schema's SQLSTATEs to ``PermissionsError``
/// as ``AuthClient`` does (for calls the typed API cannot express, such as NULL arguments).
private func authSQL(_ f: AuthFixture, _ sql: String, _ binds: [any PostgresEncodable] = []) async throws {
    do {
        try await f.sql(sql, binds)
    } catch let error as PostgresError {
        throw PermissionsError(error) ?? error
    }
}
