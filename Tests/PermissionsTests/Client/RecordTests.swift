import Foundation
import Permissions
import PQ
import Testing

/// One record by its key (`auth.get_tenant_user`, `get_user_group`, `get_perm_set`), the
/// updates of groups and sets, group owners, and the audit log by page: what the tenant API
/// shows and changes, for SQL callers too.
@Suite("Records: one user, group or set by its key, their updates, group owners, the audit log by page")
struct RecordTests {
    @Test("a tenant's user by id, with the list's columns; a user of another tenant is notTenantMember")
    func tenantUser() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A"), b = try await f.tenant("B")
            let ann = try await f.auth.createUser(username: "ann", email: "ann@a.example", displayName: "Ann")
            try await f.auth.addUserToTenant(a, user: ann)
            let theirs = try await f.member(of: b, "theirs")

            let shown = try await f.auth.tenantUser(a, user: ann)
            #expect(shown == (try await f.auth.listTenantUsers(a)).first)
            #expect(shown.username == "ann" && shown.email == "ann@a.example" && shown.displayName == "Ann" && shown.isActive)
            try await f.auth.removeUserFromTenant(a, user: ann)
            #expect(try await f.auth.tenantUser(a, user: ann).isActive == false)

            await expectError(.notTenantMember) { _ = try await f.auth.tenantUser(a, user: theirs) }
            await expectError(.unknownUser) { _ = try await f.auth.tenantUser(a, user: UserID(UUID())) }
            await expectError(.unknownTenant) { _ = try await f.auth.tenantUser(TenantID(UUID()), user: ann) }
            await expectError(.invalidArgument) { try await f.call("SELECT * FROM auth.get_tenant_user($1, NULL)", [a]) }
        }
    }

    @Test("a group by id; renaming its code and name, a taken or invalid code, another tenant's group")
    func userGroup() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A"), b = try await f.tenant("B")
            let sales = try await f.auth.createUserGroup(tenant: a, code: "sales", name: "Sales")
            _ = try await f.auth.createUserGroup(tenant: a, code: "support", name: "Support")
            let theirs = try await f.auth.createUserGroup(tenant: b, code: "sales", name: "Their sales")
            try await f.auth.addUserToGroup(tenant: a, group: sales, user: try await f.member(of: a))

            let before = try await f.auth.userGroup(tenant: a, group: sales)
            #expect(before.code == "sales" && before.name == "Sales" && before.memberCount == 1 && before.isActive)
            #expect(try await f.auth.listUserGroups(tenant: a).first == before)

            try await f.auth.updateUserGroup(tenant: a, group: sales, name: "Field sales")
            try await f.auth.updateUserGroup(tenant: a, group: sales, code: "field-sales")
            let after = try await f.auth.userGroup(tenant: a, group: sales)
            #expect(after.code == "field-sales" && after.name == "Field sales" && after.memberCount == 1)
            #expect(after.updatedAt >= before.updatedAt)

            await expectError(.userGroupCodeTaken) { try await f.auth.updateUserGroup(tenant: a, group: sales, code: "support") }
            await expectError(.invalidCode) { try await f.auth.updateUserGroup(tenant: a, group: sales, code: "no spaces") }
            await expectError(.invalidArgument) { try await f.auth.updateUserGroup(tenant: a, group: sales, name: "  ") }
            // The other tenant's group of the same code is untouched and unknown from here.
            await expectError(.unknownUserGroup) { _ = try await f.auth.userGroup(tenant: a, group: theirs) }
            await expectError(.unknownUserGroup) { try await f.auth.updateUserGroup(tenant: a, group: theirs, name: "Mine") }
            #expect(try await f.auth.userGroup(tenant: b, group: theirs).name == "Their sales")
            #expect(try await f.auth.userGroup(tenant: a, group: sales).code == "field-sales")
        }
    }

    @Test("group owners come by username ignoring case, paged; another tenant's group is unknownUserGroup")
    func groupOwners() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A"), b = try await f.tenant("B")
            let group = try await f.auth.createUserGroup(tenant: a, code: "ops", name: "Ops")
            let theirs = try await f.auth.createUserGroup(tenant: b, code: "ops", name: "Ops")
            var owners: [UserID] = []
            for name in ["Cy", "ava", "Bo"] {
                let user = try await f.auth.createUser(username: name)
                try await f.auth.addUserToTenant(a, user: user)
                try await f.auth.assignGroupOwner(tenant: a, group: group, user: user)
                owners.append(user)
            }
            let first = try await f.auth.listGroupOwners(tenant: a, group: group, pageSize: 2)
            #expect(first.map(\.username) == ["ava", "Bo"])
            #expect(try await f.auth.listGroupOwners(tenant: a, group: group, pageSize: 2, after: "bo").map(\.username) == ["Cy"])
            try await f.auth.removeGroupOwner(tenant: a, group: group, user: owners[0])
            #expect(try await f.auth.listGroupOwners(tenant: a, group: group).map(\.username) == ["ava", "Bo"])
            #expect(try await f.auth.listGroupOwners(tenant: b, group: theirs).isEmpty)
            await expectError(.unknownUserGroup) { _ = try await f.auth.listGroupOwners(tenant: a, group: theirs) }
            await expectError(.invalidPage) { _ = try await f.auth.listGroupOwners(tenant: a, group: group, pageSize: 501) }
        }
    }

    @Test("a set by code, a template too; its name and description change, its code never; another tenant's set")
    func permSet() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["reports.view", "reports.export"])
            let a = try await f.tenant("A"), b = try await f.tenant("B")
            _ = try await f.auth.createPermSet(tenant: a, code: "REPORTS", name: "Reports", description: "Read reports")
            try await f.auth.addPermSetPermissions(tenant: a, permSet: "REPORTS", codes: ["reports.view", "reports.export"])
            _ = try await f.auth.createPermSet(tenant: b, code: "THEIRS", name: "Theirs")

            let set = try await f.auth.permSet(tenant: a, code: "REPORTS")
            #expect(set.name == "Reports" && set.description == "Read reports" && set.permissionCount == 2)
            #expect(try await f.auth.listPermSets(tenant: a).contains(set))

            try await f.auth.updatePermSet(tenant: a, code: "REPORTS", name: "All reports")
            #expect(try await f.auth.permSet(tenant: a, code: "REPORTS").description == "Read reports")
            try await f.auth.updatePermSet(tenant: a, code: "REPORTS", description: "")
            let changed = try await f.auth.permSet(tenant: a, code: "REPORTS")
            #expect(changed.name == "All reports" && changed.description == nil && changed.code == "REPORTS")

            _ = try await f.auth.createPermSet(tenant: nil, code: "TEMPLATE_X", name: "Template")
            try await f.auth.updatePermSet(tenant: nil, code: "TEMPLATE_X", description: "For every tenant")
            #expect(try await f.auth.permSet(tenant: nil, code: "TEMPLATE_X").description == "For every tenant")

            await expectError(.unknownPermSet) { _ = try await f.auth.permSet(tenant: a, code: "THEIRS") }
            await expectError(.unknownPermSet) { try await f.auth.updatePermSet(tenant: a, code: "THEIRS", name: "Mine") }
            await expectError(.unknownTenant) { _ = try await f.auth.permSet(tenant: TenantID(UUID()), code: "REPORTS") }
            await expectError(.invalidArgument) { try await f.auth.updatePermSet(tenant: a, code: "REPORTS", name: "") }
            #expect(try await f.auth.permSet(tenant: b, code: "THEIRS").name == "Theirs")
        }
    }

    @Test("the audit log by page, newest first: by action or table, by actor, with or without the global rows")
    func auditLogPages() async throws {
        try await AuthFixture.run { f in
            let a = try await f.tenant("A"), b = try await f.tenant("B")
            let admin = try await f.member(of: a, "admin")
            try await f.connection.withTransaction { connection in
                let auth = AuthClient(connection)
                try await auth.setActor(admin)
                for code in ["g1", "g2", "g3"] { _ = try await auth.createUserGroup(tenant: a, code: code, name: code) }
            }
            _ = try await f.auth.createUserGroup(tenant: b, code: "theirs", name: "Theirs")

            let groups = try await f.auth.listAuditLog(tenant: a, action: "user_group.insert")
            #expect(groups.count == 3 && groups.allSatisfy { $0.actor == admin && $0.tenantID == a })
            #expect(groups.map(\.id) == groups.map(\.id).sorted(by: >))
            // Pages follow the last id, and together they are the whole filtered log.
            let page1 = try await f.auth.listAuditLog(tenant: a, action: "user_group", pageSize: 2)
            let page2 = try await f.auth.listAuditLog(tenant: a, action: "user_group", pageSize: 2, before: page1.last?.id)
            #expect((page1 + page2).map(\.id) == groups.map(\.id))
            #expect(try await f.auth.listAuditLog(tenant: a, actor: admin).map(\.id) == groups.map(\.id))

            // Users have no tenant: only with includeGlobal.
            #expect(try await f.auth.listAuditLog(tenant: a, action: "user_info").isEmpty)
            let users = try await f.auth.listAuditLog(tenant: a, includeGlobal: true, action: "user_info")
            #expect(!users.isEmpty && users.allSatisfy { $0.tenantID == nil })
            // Another tenant's rows never appear.
            #expect(try await f.auth.listAuditLog(tenant: a, includeGlobal: true, pageSize: 500).allSatisfy { $0.tenantID != b })

            await expectError(.invalidArgument) { _ = try await f.auth.listAuditLog(tenant: a, action: " ") }
            await expectError(.invalidPage) { _ = try await f.auth.listAuditLog(tenant: a, pageSize: 0) }
            await expectError(.invalidArgument) { try await f.call("SELECT * FROM auth.list_audit_log(NULL)") }
        }
    }
}
