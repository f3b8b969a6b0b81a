import Foundation
import Permissions
import PQ
import Testing

@Suite("Permission catalogue")
struct CatalogueTests {
    struct StoredPermission: Equatable {
        var id: PermissionID
        var name: String
        var description: String?
    }

    static func stored(_ f: AuthFixture, _ code: String) async throws -> StoredPermission? {
        let rows = try await f.sql(
            "SELECT permission_id, name, description FROM auth.permission WHERE code::text = $1", [code])
        guard let row = rows.rows.first else { return nil }
        return StoredPermission(id: try row.decode(at: 0), name: try row.decode(at: 1), description: try row.decode(at: 2))
    }

    /// Every code in the catalogue, sorted.
    static func codes(_ f: AuthFixture) async throws -> [String] {
        try await f.sql("SELECT code::text FROM auth.permission ORDER BY code::text COLLATE \"C\"").map { try $0.decode(String.self, at: 0) }
    }

    // MARK: create_permission

    @Test("create_permission stores the code with its name and description and returns its id")
    func create() async throws {
        try await AuthFixture.run { f in
            let id = try await f.auth.createPermission(code: "users", name: "Users", description: "User administration")
            #expect(try await Self.stored(f, "users")
                    == StoredPermission(id: id, name: "Users", description: "User administration"))
            let other = try await f.auth.createPermission(code: "groups", name: "Groups")
            #expect(try await Self.stored(f, "groups") == StoredPermission(id: other, name: "Groups", description: nil))
            #expect(try await Self.codes(f) == ["groups", "users"])
        }
    }

    @Test("create_permission creates the missing ancestors, named after their last segment")
    func createAncestors() async throws {
        try await AuthFixture.run { f in
            let id = try await f.auth.createPermission(code: "reports.export.pdf", name: "Export as PDF")
            #expect(try await Self.codes(f) == ["reports", "reports.export", "reports.export.pdf"])
            #expect(try await Self.stored(f, "reports.export.pdf")?.id == id)
            #expect(try await Self.stored(f, "reports")?.name == "reports")
            #expect(try await Self.stored(f, "reports.export")?.name == "export")
        }
    }

    @Test("create_permission keeps an existing ancestor as it is")
    func createUnderExistingAncestor() async throws {
        try await AuthFixture.run { f in
            let users = try await f.auth.createPermission(code: "users", name: "Users", description: "All of it")
            _ = try await f.auth.createPermission(code: "users.create_user", name: "Create users")
            #expect(try await Self.stored(f, "users") == StoredPermission(id: users, name: "Users", description: "All of it"))
            #expect(try await Self.codes(f) == ["users", "users.create_user"])
        }
    }

    @Test("a code created below a granted code is granted at once; its parent is not")
    func createUnderGrantedCode() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["reports"])
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("reports"))
            _ = try await f.auth.createPermission(code: "reports.export.pdf", name: "PDF")
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "reports.export.pdf"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "reports.export"))

            let other = try await f.member(of: tenant)
            try await f.auth.assignPermission(tenant: tenant, to: .user(other), grant: .permission("reports.export"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: other, code: "reports.export.pdf"))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: other, code: "reports"))
        }
    }

    @Test("create_permission refuses malformed codes and creates nothing, not even a valid prefix")
    func createMalformed() async throws {
        try await AuthFixture.run { f in
            for code in ["Users", "users.", ".users", "users..list", "users-list", "users list", "users.List",
                         "users.list!", "ok.Bad", "ok.bad.", "üsers", "users.*"] {
                await expectError(.invalidPermissionCode) { _ = try await f.auth.createPermission(code: code, name: "X") }
            }
            let codes = try await Self.codes(f)
            #expect(codes.isEmpty)
        }
    }

    @Test("create_permission refuses an empty code or a blank name and creates nothing")
    func createMissingArguments() async throws {
        try await AuthFixture.run { f in
            await expectError(.invalidArgument) { _ = try await f.auth.createPermission(code: "", name: "X") }
            await expectError(.invalidArgument) { _ = try await f.auth.createPermission(code: "a.b", name: "") }
            await expectError(.invalidArgument) { _ = try await f.auth.createPermission(code: "a.b", name: "  ") }
            let codes = try await Self.codes(f)
            #expect(codes.isEmpty)
        }
    }

    @Test("create_permission refuses an existing code, an automatically created ancestor included")
    func createDuplicate() async throws {
        try await AuthFixture.run { f in
            let id = try await f.auth.createPermission(code: "users.create_user", name: "Create users")
            let parent = try #require(try await Self.stored(f, "users"))
            await expectError(.permissionExists) {
                _ = try await f.auth.createPermission(code: "users.create_user", name: "Again", description: "dup")
            }
            await expectError(.permissionExists) { _ = try await f.auth.createPermission(code: "users", name: "Users") }
            #expect(try await Self.stored(f, "users.create_user")
                    == StoredPermission(id: id, name: "Create users", description: nil))
            #expect(try await Self.stored(f, "users") == parent)
            #expect(try await Self.codes(f) == ["users", "users.create_user"])
        }
    }

    // MARK: delete_permission

    @Test("delete_permission deletes the code and its descendants, and keeps its parent and siblings")
    func delete() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["reports.export.pdf", "reports.export.csv", "reports.view", "reportsx"])
            try await f.auth.deletePermission(code: "reports.export")
            #expect(try await Self.codes(f) == ["reports", "reports.view", "reportsx"])
            try await f.auth.deletePermission(code: "reports")
            #expect(try await Self.codes(f) == ["reportsx"])
        }
    }

    @Test("a deleted code is unknown to checks until it is created again")
    func deleteThenRecreate() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.auth.deletePermission(code: "docs.read")
            await expectError(.unknownPermission) { _ = try await f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read") }
            _ = try await f.auth.createPermission(code: "docs.read", name: "Read")
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: user, code: "docs.read"))
        }
    }

    @Test("delete_permission refuses a code, or a parent of a code, that a tenant's set uses, and deletes nothing")
    func deleteUsedBySet() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read", "docs.write"])
            let tenant = try await f.tenant()
            _ = try await f.auth.createPermSet(tenant: tenant, code: "READERS", name: "Readers")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "READERS", codes: ["docs.read"])
            let before = try await Self.codes(f)

            await expectError(.permissionInUse) { try await f.auth.deletePermission(code: "docs.read") }
            await expectError(.permissionInUse) { try await f.auth.deletePermission(code: "docs") }
            #expect(try await Self.codes(f) == before)

            // The unused sibling can go; once removed from the set, the rest can too.
            try await f.auth.deletePermission(code: "docs.write")
            try await f.auth.removePermSetPermissions(tenant: tenant, permSet: "READERS", codes: ["docs.read"])
            try await f.auth.deletePermission(code: "docs")
            #expect(try await Self.codes(f).isEmpty)
        }
    }

    @Test("delete_permission refuses a code used by a template set")
    func deleteUsedByTemplate() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            _ = try await f.auth.createPermSet(tenant: nil, code: "STANDARD", name: "Standard")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "STANDARD", codes: ["docs.read"])
            await expectError(.permissionInUse) { try await f.auth.deletePermission(code: "docs") }
            #expect(try await Self.codes(f) == ["docs", "docs.read"])
        }
    }

    @Test("delete_permission refuses a code assigned directly, and deletes nothing")
    func deleteUsedByAssignment() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["billing.refund"])
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("billing.refund"))
            await expectError(.permissionInUse) { try await f.auth.deletePermission(code: "billing.refund") }
            await expectError(.permissionInUse) { try await f.auth.deletePermission(code: "billing") }
            #expect(try await Self.codes(f) == ["billing", "billing.refund"])
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "billing.refund"))
        }
    }

    @Test("delete_permission's refusal names every use in DETAIL and the forced call in HINT")
    func deleteInUseExplains() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read", "docs.write"])
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            _ = try await f.auth.createPermSet(tenant: tenant, code: "READERS", name: "Readers")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "READERS", codes: ["docs.read"])
            _ = try await f.auth.createPermSet(tenant: nil, code: "STANDARD", name: "Standard")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "STANDARD", codes: ["docs"])
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("docs.write"))
            do {
                try await f.auth.deletePermission(code: "docs")
                Issue.record("a code in use was deleted")
            } catch let error as PermissionsError {
                #expect(error.code == .permissionInUse)
                let detail = try #require(error.detail)
                #expect(detail.contains("3 use(s)"), "\(detail)")
                #expect(detail.contains("docs in template set STANDARD"), "\(detail)")
                #expect(detail.contains("docs.read in set READERS of tenant \(tenant)"), "\(detail)")
                #expect(detail.contains("docs.write assigned directly in tenant \(tenant)"), "\(detail)")
                #expect(error.hint?.contains("auth.delete_permission(_code := 'docs', _force := true)") == true, "\(error)")
            }
        }
    }

    @Test("delete_permission with force takes the code out of every set, templates included, and deletes its direct assignments")
    func deleteForced() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read", "docs.write", "billing.view"])
            let a = try await f.tenant("A")
            let b = try await f.tenant("B")
            let reader = try await f.member(of: a)
            let writer = try await f.member(of: b)
            _ = try await f.auth.createPermSet(tenant: a, code: "READERS", name: "Readers")
            try await f.auth.addPermSetPermissions(tenant: a, permSet: "READERS", codes: ["docs.read", "billing.view"])
            try await f.auth.assignPermission(tenant: a, to: .user(reader), grant: .permSet("READERS"))
            try await f.auth.assignPermission(tenant: b, to: .user(writer), grant: .permission("docs.write"))
            try await f.auth.assignPermission(tenant: b, to: .user(writer), grant: .permission("billing.view"))
            _ = try await f.auth.createPermSet(tenant: nil, code: "STANDARD", name: "Standard")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "STANDARD", codes: ["docs.read", "billing.view"])

            try await f.auth.deletePermission(code: "docs", force: true)
            #expect(try await Self.codes(f) == ["billing", "billing.view"])
            // Both tenants lost the code and kept the rest; the sets and the other grant stay.
            #expect(try await f.auth.hasPermission(tenant: a, user: reader, code: "billing.view"))
            #expect(try await f.auth.hasPermission(tenant: b, user: writer, code: "billing.view"))
            await expectError(.unknownPermission) { _ = try await f.auth.hasPermission(tenant: a, user: reader, code: "docs.read") }
            #expect(try await f.sql("SELECT count(*) FROM auth.permission_assignment WHERE tenant_id = $1", [b]).scalar(Int.self) == 1)
            #expect(try await f.sql("""
                SELECT count(*) FROM auth.perm_set_permission sp JOIN auth.perm_set ps USING (perm_set_id)
                WHERE ps.code IN ('READERS', 'STANDARD')
                """).scalar(Int.self) == 2)
            // Created again, the code is granted to nobody.
            _ = try await f.auth.createPermission(code: "docs.read", name: "Read")
            #expect(try await !f.auth.hasPermission(tenant: a, user: reader, code: "docs.read"))
            // Every removal is in the tenants' audit logs.
            #expect(try await f.auth.auditLog(tenant: a, limit: nil).contains { $0.action == "perm_set_permission.delete" })
            #expect(try await f.auth.auditLog(tenant: b, limit: nil).contains { $0.action == "permission_assignment.delete" })
        }
    }

    @Test("delete_permission of an unknown, malformed or empty code fails with the matching error")
    func deleteUnknown() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            await expectError(.unknownPermission) { try await f.auth.deletePermission(code: "docs.write") }
            await expectError(.invalidPermissionCode) { try await f.auth.deletePermission(code: "Docs.Read") }
            await expectError(.invalidArgument) { try await f.auth.deletePermission(code: "") }
            await expectError(.unknownPermission) { try await f.auth.deletePermission(code: "docs.write", force: true) }
            #expect(try await Self.codes(f) == ["docs", "docs.read"])
        }
    }

    // MARK: Names as given, blank names, long codes

    @Test("create_permission stores the name exactly as given, spaces included, like every other name")
    func nameStoredExactly() async throws {
        try await AuthFixture.run { f in
            let id = try await f.auth.createPermission(code: "reports.view", name: "  View reports\t")
            #expect(try await f.sql("SELECT name FROM auth.permission WHERE permission_id = $1", [id])
                .scalar(String.self).utf8.elementsEqual("  View reports\t".utf8))
        }
    }

    @Test("a name of only whitespace or invisible characters is blank: QI001, and a direct insert gets the segment")
    func invisibleNameIsBlank() async throws {
        try await AuthFixture.run { f in
            for blank in ["\t\n", "\u{00A0}", "\u{200B}\u{FEFF}"] {
                await expectError(.invalidArgument) { _ = try await f.auth.createPermission(code: "a.b", name: blank) }
            }
            #expect(try await Self.codes(f).isEmpty)
            try await f.sql("INSERT INTO auth.permission (code, name) VALUES ('x.y', E'\\t\\u200b')")
            #expect(try await f.sql("SELECT name FROM auth.permission WHERE code::text = 'x.y'").scalar(String.self) == "y")
        }
    }

    @Test("a code of 255 characters is accepted; a longer one, or one with a segment over 255, is QI002")
    func codeLength() async throws {
        try await AuthFixture.run { f in
            let segment = String(repeating: "a", count: 127)
            let longest = segment + "." + segment  // 255 characters
            _ = try await f.auth.createPermission(code: longest, name: "Longest")
            await expectError(.invalidPermissionCode) { _ = try await f.auth.createPermission(code: longest + "b", name: "X") }
            await expectError(.invalidPermissionCode) {
                _ = try await f.auth.createPermission(code: String(repeating: "c", count: 256), name: "X")
            }
            await expectError(.invalidPermissionCode) {
                _ = try await f.auth.createPermission(code: Array(repeating: "d", count: 70_000).joined(separator: "."), name: "X")
            }
            #expect(try await Self.codes(f).count == 2)
        }
    }
}
