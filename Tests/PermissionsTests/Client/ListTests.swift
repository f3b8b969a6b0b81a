import Foundation
import Permissions
import PQ
import Testing

/// The `auth.list_*` functions: keyset pages in a stable total order, filters, errors by
/// SQLSTATE, and tenants that never see each other's rows.
@Suite("Lists: keyset pages of users, groups, members, sets, codes, assignments and the catalogue")
struct ListTests {
    /// Every page of a list, following each page's last key, with `between` run after each page.
    static func walk<Row, Key>(pageSize: Int, key: (Row) -> Key, between: (Int) async throws -> Void = { _ in },
                               _ page: (Key?) async throws -> [Row]) async throws -> [[Row]] {
        var pages: [[Row]] = []
        var after: Key?
        while true {
            let rows = try await page(after)
            #expect(rows.count <= pageSize)
            guard let last = rows.last else { return pages }
            pages.append(rows)
            after = key(last)
            try await between(pages.count)
        }
    }

    // MARK: list_tenant_users

    @Test("tenant users come by username ignoring case, page after page, none repeated or skipped while others join")
    func tenantUsersPaging() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let names = ["carol", "Alice", "bob", "Dave", "erin", "frank", "Gina"]
            var ids: [String: UserID] = [:]
            for name in names {
                ids[name] = try await f.auth.createUser(username: name)
                try await f.auth.addUserToTenant(tenant, user: ids[name]!)
            }
            // After the first page, one user joins before the cursor (never seen: it is behind)
            // and one after it (seen in its place).
            let pages = try await Self.walk(pageSize: 3, key: \TenantUser.username, between: { page in
                guard page == 1 else { return }
                for name in ["aaron", "zoe"] {
                    try await f.auth.addUserToTenant(tenant, user: try await f.auth.createUser(username: name))
                }
            }) { after in try await f.auth.listTenantUsers(tenant, pageSize: 3, after: after) }

            #expect(pages.map { $0.map(\.username) } == [["Alice", "bob", "carol"], ["Dave", "erin", "frank"], ["Gina", "zoe"]])
            #expect(pages[0][0].userID == ids["Alice"])
            // The default page holds everyone here, in the same order.
            #expect(try await f.auth.listTenantUsers(tenant).map(\.username)
                    == ["aaron", "Alice", "bob", "carol", "Dave", "erin", "frank", "Gina", "zoe"])
            // The cursor is compared ignoring case too.
            #expect(try await f.auth.listTenantUsers(tenant, pageSize: 2, after: "CAROL").map(\.username) == ["Dave", "erin"])
        }
    }

    @Test("tenant users: search in username, email and display name ignoring case, % and _ literal; active filter")
    func tenantUsersSearch() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            func member(_ username: String, email: String? = nil, displayName: String? = nil) async throws -> UserID {
                let user = try await f.auth.createUser(username: username, email: email, displayName: displayName)
                try await f.auth.addUserToTenant(tenant, user: user)
                return user
            }
            let ann = try await member("ann", email: "ann@ACME.example")
            let ben = try await member("ben", displayName: "Ben Acme")
            let cid = try await member("cid_100%")
            let dot = try await member("dot", email: "dot@other.example")
            try await f.auth.removeUserFromTenant(tenant, user: dot)
            let eve = try await member("eve-acme")
            try await f.auth.deactivateUser(eve)

            func search(_ text: String?, _ active: Bool? = nil) async throws -> [UserID] {
                try await f.auth.listTenantUsers(tenant, search: text, isActive: active).map(\.userID)
            }
            #expect(try await search("acme") == [ann, ben, eve])
            #expect(try await search("ACME", true) == [ann, ben])
            #expect(try await search("acme", false) == [eve])
            #expect(try await search(nil, false) == [dot, eve])
            #expect(try await search(nil, true) == [ann, ben, cid])
            #expect(try await search("_100%") == [cid])
            #expect(try await search("%") == [cid])
            #expect(try await search("other") == [dot])
            #expect(try await search("nobody").isEmpty)
            let inactive = try await f.auth.listTenantUsers(tenant, isActive: false)
            #expect(inactive.allSatisfy { !$0.isActive })
        }
    }

    @Test("tenant users: unknownTenant, invalidPage for 0 and 501 (and a NULL page size is invalidArgument), blank search")
    func tenantUsersErrors() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            await expectError(.unknownTenant) { _ = try await f.auth.listTenantUsers(TenantID(UUID())) }
            for size in [0, -1, 501] {
                await expectError(.invalidPage) { _ = try await f.auth.listTenantUsers(tenant, pageSize: size) }
            }
            #expect(try await f.auth.listTenantUsers(tenant, pageSize: 500).isEmpty)
            #expect(try await f.auth.listTenantUsers(tenant, pageSize: 1).isEmpty)
            await expectError(.invalidArgument) { _ = try await f.auth.listTenantUsers(tenant, search: " \t") }
            await expectError(.invalidArgument) {
                try await f.call("SELECT * FROM auth.list_tenant_users($1, _page_size := NULL)", [tenant])
            }
        }
    }

    @Test("tenant users: another tenant's members are never listed")
    func tenantUsersIsolation() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A"), b = try await f.tenant("B")
            let ours = try await f.member(of: a, "ours")
            let theirs = try await f.member(of: b, "theirs")
            let both = try await f.member(of: a, "both")
            try await f.auth.addUserToTenant(b, user: both)
            #expect(try await Set(f.auth.listTenantUsers(a).map(\.userID)) == [ours, both])
            #expect(try await Set(f.auth.listTenantUsers(b).map(\.userID)) == [theirs, both])
            #expect(try await f.auth.listTenantUsers(a, search: "theirs").isEmpty)
        }
    }

    // MARK: list_user_groups and list_group_members

    @Test("groups come by code in byte order, with their member count and state, page after page")
    func groups() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant(), other = try await f.tenant("Other")
            var groups: [String: UserGroupID] = [:]
            for code in ["b", "A-1", "Z", "a", "B_2"] {
                groups[code] = try await f.auth.createUserGroup(tenant: tenant, code: code, name: "Group \(code)")
            }
            _ = try await f.auth.createUserGroup(tenant: other, code: "A-0", name: "Theirs")
            for name in ["m1", "m2"] {
                try await f.auth.addUserToGroup(tenant: tenant, group: groups["Z"]!, user: try await f.member(of: tenant, name))
            }
            try await f.auth.deactivateUserGroup(tenant: tenant, group: groups["a"]!)

            let pages = try await Self.walk(pageSize: 2, key: \UserGroup.code) { after in
                try await f.auth.listUserGroups(tenant: tenant, pageSize: 2, after: after)
            }
            #expect(pages.map { $0.map(\.code) } == [["A-1", "B_2"], ["Z", "a"], ["b"]])
            let all = pages.flatMap { $0 }
            #expect(all.first { $0.code == "Z" }?.memberCount == 2)
            #expect(all.first { $0.code == "Z" }?.id == groups["Z"])
            #expect(all.filter { !$0.isActive }.map(\.code) == ["a"])
            #expect(all.first { $0.code == "b" }?.name == "Group b")
            #expect(try await f.auth.listUserGroups(tenant: other).map(\.name) == ["Theirs"])
            await expectError(.unknownTenant) { _ = try await f.auth.listUserGroups(tenant: TenantID(UUID())) }
            await expectError(.invalidPage) { _ = try await f.auth.listUserGroups(tenant: tenant, pageSize: 501) }
        }
    }

    @Test("group members come by username ignoring case; another tenant's group is unknownUserGroup")
    func groupMembers() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant(), other = try await f.tenant("Other")
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            let theirs = try await f.auth.createUserGroup(tenant: other, code: "STAFF", name: "Staff")
            var members: [String: UserID] = [:]
            for name in ["Yan", "xia", "Walt", "vic"] {
                members[name] = try await f.auth.createUser(username: name, email: "\(name)@example.com")
                try await f.auth.addUserToTenant(tenant, user: members[name]!)
                try await f.auth.addUserToGroup(tenant: tenant, group: group, user: members[name]!)
            }
            _ = try await f.member(of: tenant, "not-in-the-group")
            try await f.auth.removeUserFromTenant(tenant, user: members["xia"]!)

            let pages = try await Self.walk(pageSize: 3, key: \GroupMember.username) { after in
                try await f.auth.listGroupMembers(tenant: tenant, group: group, pageSize: 3, after: after)
            }
            #expect(pages.map { $0.map(\.username) } == [["vic", "Walt", "xia"], ["Yan"]])
            let all = pages.flatMap { $0 }
            #expect(all.map(\.isActive) == [true, true, false, true])
            #expect(all.first?.email == "vic@example.com")
            #expect(all.first?.userID == members["vic"])

            #expect(try await f.auth.listGroupMembers(tenant: other, group: theirs).isEmpty)
            await expectError(.unknownUserGroup) { _ = try await f.auth.listGroupMembers(tenant: tenant, group: theirs) }
            await expectError(.unknownUserGroup) { _ = try await f.auth.listGroupMembers(tenant: other, group: group) }
            await expectError(.unknownUserGroup) { _ = try await f.auth.listGroupMembers(tenant: tenant, group: UserGroupID(UUID())) }
            await expectError(.unknownTenant) { _ = try await f.auth.listGroupMembers(tenant: TenantID(UUID()), group: group) }
            await expectError(.invalidPage) { _ = try await f.auth.listGroupMembers(tenant: tenant, group: group, pageSize: 0) }
        }
    }

    // MARK: list_perm_sets and list_perm_set_permissions

    @Test("permission sets of a tenant or the templates, by code, with their counts; each tenant sees its own")
    func permSets() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read", "docs.write", "billing"])
            _ = try await f.auth.createPermSet(tenant: nil, code: "VIEWER", name: "Viewer")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "VIEWER", codes: ["docs.read"])
            let tenant = try await f.tenant(), other = try await f.tenant("Other")
            _ = try await f.auth.createPermSet(tenant: tenant, code: "EDITOR", name: "Editor", description: "Writes docs")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "EDITOR", codes: ["docs.read", "docs.write"])
            _ = try await f.auth.createPermSet(tenant: tenant, code: "BILLING", name: "Billing")
            _ = try await f.auth.createPermSet(tenant: other, code: "OTHERS", name: "Theirs")
            let member = try await f.member(of: tenant)
            try await f.auth.assignPermission(tenant: tenant, to: .user(member), grant: .permSet("EDITOR"))
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "G", name: "G")
            try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permSet("EDITOR"))

            let pages = try await Self.walk(pageSize: 2, key: \PermSet.code) { after in
                try await f.auth.listPermSets(tenant: tenant, pageSize: 2, after: after)
            }
            #expect(pages.map { $0.map(\.code) } == [["BILLING", "EDITOR"], ["VIEWER"]])
            let editor = try #require(pages[0].last)
            #expect(editor.name == "Editor" && editor.description == "Writes docs")
            #expect(editor.permissionCount == 2 && editor.assignmentCount == 2)
            #expect(pages[1][0].permissionCount == 1 && pages[1][0].assignmentCount == 0)

            let templates = try await f.auth.listPermSets(tenant: nil)
            #expect(templates.map(\.code) == ["VIEWER"])
            #expect(templates[0].id != pages[1][0].id, "the tenant's copy is another set")
            // A set created in another tenant after the template: that tenant has both.
            #expect(try await f.auth.listPermSets(tenant: other).map(\.code) == ["OTHERS", "VIEWER"])
            await expectError(.unknownTenant) { _ = try await f.auth.listPermSets(tenant: TenantID(UUID())) }
            await expectError(.invalidPage) { _ = try await f.auth.listPermSets(tenant: nil, pageSize: 1_000) }
        }
    }

    @Test("the codes of a set, by code; a template's too; another tenant's set is unknownPermSet")
    func permSetCodes() async throws {
        try await AuthFixture.run { f in
            _ = try await f.auth.createPermission(code: "docs.read", name: "Read docs", description: "Reading")
            try await f.catalogue(["docs.write", "billing.view", "admin"])
            let tenant = try await f.tenant(), other = try await f.tenant("Other")
            _ = try await f.auth.createPermSet(tenant: tenant, code: "S", name: "S")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "S", codes: ["docs.write", "admin", "docs.read", "billing.view"])
            _ = try await f.auth.createPermSet(tenant: other, code: "T", name: "T")
            _ = try await f.auth.createPermSet(tenant: nil, code: "TPL", name: "Template")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "TPL", codes: ["billing.view"])

            let pages = try await Self.walk(pageSize: 3, key: \CatalogueEntry.code) { after in
                try await f.auth.listPermSetPermissions(tenant: tenant, permSet: "S", pageSize: 3, after: after)
            }
            #expect(pages.map { $0.map(\.code) } == [["admin", "billing.view", "docs.read"], ["docs.write"]])
            let read = try #require(pages[0].last)
            #expect(read.name == "Read docs" && read.description == "Reading")
            #expect(read.parentCode == "docs" && read.depth == 2)
            #expect(try await f.auth.listPermSetPermissions(tenant: nil, permSet: "TPL").map(\.code) == ["billing.view"])

            await expectError(.unknownPermSet) { _ = try await f.auth.listPermSetPermissions(tenant: tenant, permSet: "T") }
            await expectError(.unknownPermSet) { _ = try await f.auth.listPermSetPermissions(tenant: other, permSet: "S") }
            await expectError(.unknownPermSet) { _ = try await f.auth.listPermSetPermissions(tenant: nil, permSet: "S") }
            await expectError(.invalidArgument) { _ = try await f.auth.listPermSetPermissions(tenant: tenant, permSet: "") }
            await expectError(.unknownTenant) { _ = try await f.auth.listPermSetPermissions(tenant: TenantID(UUID()), permSet: "S") }
            await expectError(.invalidPage) { _ = try await f.auth.listPermSetPermissions(tenant: tenant, permSet: "S", pageSize: 0) }
        }
    }

    // MARK: list_permission_assignments

    @Test("assignments come oldest first, paged by (created_at, id) through a Date cursor, filtered by user, group or set")
    func assignments() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read", "docs.write"])
            let tenant = try await f.tenant(), other = try await f.tenant("Other")
            for t in [tenant, other] { _ = try await f.auth.createPermSet(tenant: t, code: "EDITOR", name: "Editor") }
            let ann = try await f.member(of: tenant, "ann"), bob = try await f.member(of: tenant, "bob")
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: bob)
            let stranger = try await f.member(of: other, "stranger")
            try await f.auth.assignPermission(tenant: other, to: .user(stranger), grant: .permSet("EDITOR"))

            // Several in one transaction share created_at: the id orders them.
            var made: [AssignmentID] = []
            try await f.connection.withTransaction { connection in
                let auth = AuthClient(connection)
                made.append(try await auth.assignPermission(tenant: tenant, to: .user(ann), grant: .permSet("EDITOR")))
                made.append(try await auth.assignPermission(tenant: tenant, to: .user(ann), grant: .permission("docs.read")))
                made.append(try await auth.assignPermission(tenant: tenant, to: .group(group), grant: .permSet("EDITOR")))
            }
            made.append(try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permission("docs")))
            made.append(try await f.auth.assignPermission(tenant: tenant, to: .user(bob), grant: .permission("docs.write")))
            let expected = made.prefix(3).sorted { $0.description < $1.description } + made.suffix(2)

            let pages = try await Self.walk(pageSize: 2, key: \Assignment.cursor) { after in
                try await f.auth.listAssignments(tenant: tenant, pageSize: 2, after: after)
            }
            #expect(pages.map(\.count) == [2, 2, 1])
            #expect(pages.flatMap { $0 }.map(\.id) == expected)
            let all = pages.flatMap { $0 }
            let first = try #require(all.first { $0.id == made[0] })
            #expect(first.grantee == .user(ann) && first.grant == .permSet("EDITOR") && first.permSetID != nil)
            #expect(first.granteeName.hasPrefix("ann-"))
            let groupCode = try #require(all.first { $0.id == made[3] })
            #expect(groupCode.grantee == .group(group) && groupCode.granteeName == "STAFF" && groupCode.grant == .permission("docs"))
            #expect(groupCode.permSetID == nil)

            #expect(try await f.auth.listAssignments(tenant: tenant, user: ann).map(\.id) == expected.filter { [made[0], made[1]].contains($0) })
            #expect(try await Set(f.auth.listAssignments(tenant: tenant, group: group).map(\.id)) == [made[2], made[3]])
            #expect(try await Set(f.auth.listAssignments(tenant: tenant, permSet: "EDITOR").map(\.id)) == [made[0], made[2]])
            #expect(try await f.auth.listAssignments(tenant: tenant, user: ann, permSet: "EDITOR").map(\.id) == [made[0]])
            // bob's own assignments only, not his group's.
            #expect(try await f.auth.listAssignments(tenant: tenant, user: bob).map(\.id) == [made[4]])
            #expect(try await f.auth.listAssignments(tenant: other).map(\.grantee) == [.user(stranger)])
        }
    }

    @Test("assignments: a filter naming another tenant's user, group or set fails by SQLSTATE; half a cursor is invalidPage")
    func assignmentErrors() async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant(), other = try await f.tenant("Other")
            _ = try await f.auth.createPermSet(tenant: other, code: "THEIRS", name: "Theirs")
            let stranger = try await f.member(of: other)
            let theirGroup = try await f.auth.createUserGroup(tenant: other, code: "G", name: "G")

            await expectError(.unknownTenant) { _ = try await f.auth.listAssignments(tenant: TenantID(UUID())) }
            await expectError(.notTenantMember) { _ = try await f.auth.listAssignments(tenant: tenant, user: stranger) }
            await expectError(.unknownUser) { _ = try await f.auth.listAssignments(tenant: tenant, user: UserID(UUID())) }
            await expectError(.unknownUserGroup) { _ = try await f.auth.listAssignments(tenant: tenant, group: theirGroup) }
            await expectError(.unknownPermSet) { _ = try await f.auth.listAssignments(tenant: tenant, permSet: "THEIRS") }
            await expectError(.invalidPage) { _ = try await f.auth.listAssignments(tenant: tenant, pageSize: 501) }
            for half in ["_after_created_at := now()", "_after_assignment_id := gen_random_uuid()"] {
                await expectError(.invalidPage) {
                    try await f.call("SELECT * FROM auth.list_permission_assignments($1, \(half))", [tenant])
                }
            }
        }
    }

    // MARK: list_permissions

    @Test("the catalogue pages as a tree, depth first, with parent and depth")
    func catalogue() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["users_admin", "users.view", "users.create_user", "billing.refund.partial", "a1", "users.view.all"])
            let pages = try await Self.walk(pageSize: 4, key: \CatalogueEntry.code) { after in
                try await f.auth.listPermissions(pageSize: 4, after: after)
            }
            let codes = pages.flatMap { $0 }.map(\.code)
            #expect(codes == ["a1", "billing", "billing.refund", "billing.refund.partial", "users", "users.create_user",
                              "users.view", "users.view.all", "users_admin"])
            // A tree: every code right after its parent's subtree began.
            let rows = try await f.sql("SELECT perm_code, parent_code, depth FROM auth.list_permissions(_page_size := 500)")
            for row in rows {
                let code = try row.decode(String.self, at: 0)
                let parent = try row.decode(String?.self, at: 1)
                #expect(parent == code.split(separator: ".").dropLast().joined(separator: ".").nilIfEmpty, "\(code)")
                #expect(try row.decode(Int.self, at: 2) == code.split(separator: ".").count, "\(code)")
            }
            await expectError(.invalidPage) { _ = try await f.auth.listPermissions(pageSize: 0) }
        }
    }

    // MARK: Privileges

    @Test("the application role lists a tenant's users and the catalogue, and nothing else")
    func applicationRole() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let tenant = try await f.tenant()
            let member = try await f.member(of: tenant)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "G", name: "G")
            let (_, connection) = try await f.login(memberOf: "auth_app")
            defer { Task { await connection.close() } }
            let app = AuthClient(connection)
            #expect(try await app.listTenantUsers(tenant).map(\.userID) == [member])
            #expect(try await app.listPermissions().map(\.code) == ["docs", "docs.read"])
            await expectError(.insufficientPrivilege) { _ = try await app.listUserGroups(tenant: tenant) }
            await expectError(.insufficientPrivilege) { _ = try await app.listGroupMembers(tenant: tenant, group: group) }
            await expectError(.insufficientPrivilege) { _ = try await app.listPermSets(tenant: tenant) }
            await expectError(.insufficientPrivilege) { _ = try await app.listAssignments(tenant: tenant) }
            await expectError(.insufficientPrivilege) { _ = try await app.explainPermission(tenant: tenant, user: member, code: "docs") }
            await expectError(.insufficientPrivilege) { try await app.applyPermissionCatalogue(CatalogueDeclaration()) }
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
