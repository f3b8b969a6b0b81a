import Foundation
import Permissions
import PQ
import Testing

/// `auth.apply_permission_catalogue`: the catalogue and the template sets made equal to a
/// declaration, in one transaction, idempotent, with a report of each change.
@Suite("Catalogue apply: declarative set-up of codes and template sets")
struct CatalogueApplyTests {
    typealias Declaration = CatalogueDeclaration

    static let declaration = Declaration(
        permissions: [.init(code: "invoices.view", name: "View invoices"),
                      .init(code: "invoices.refund", name: "Refund invoices", description: "Money back"),
                      .init(code: "reports", name: "Reports")],
        permSets: [.init(code: "ACCOUNTANT", name: "Accountant", description: "Books", permissions: ["invoices", "reports"]),
                   .init(code: "CLERK", name: "Clerk", permissions: ["invoices.view"])])

    /// The change list as lines, for readable comparisons.
    static func lines(_ changes: [CatalogueChange]) -> [String] { changes.map(\.description) }

    /// Each code of the catalogue with its name and description; each template with its codes.
    static func state(_ f: AuthFixture) async throws -> [String] {
        try await f.sql("""
            SELECT line FROM (
                SELECT 'code ' || code::text || ' ' || name || coalesce(' / ' || description, '') FROM auth.permission
                UNION ALL
                SELECT 'set ' || ps.code || ' ' || ps.name || coalesce(' / ' || ps.description, '') || ': '
                       || coalesce((SELECT string_agg(p.code::text, ',' ORDER BY p.code::text COLLATE "C")
                                      FROM auth.perm_set_permission sp JOIN auth.permission p USING (permission_id)
                                     WHERE sp.perm_set_id = ps.perm_set_id), '')
                  FROM auth.perm_set ps WHERE ps.tenant_id IS NULL) AS state(line)
             ORDER BY line COLLATE "C"
            """).map { try $0.decode(String.self, at: 0) }
    }

    @Test("the first apply adds codes (and the ancestors they lack) and template sets, reporting each; the second changes nothing")
    func addsThenIdempotent() async throws {
        try await AuthFixture.run { f in
            let changes = try await f.auth.applyPermissionCatalogue(Self.declaration)
            #expect(Self.lines(changes) == [
                "permission.create invoices (invoices)",
                "permission.create invoices.refund (Refund invoices)",
                "permission.create invoices.view (View invoices)",
                "permission.create reports (Reports)",
                "perm_set.create ACCOUNTANT (Accountant)",
                "perm_set.create CLERK (Clerk)",
                "perm_set.add_permission ACCOUNTANT invoices",
                "perm_set.add_permission ACCOUNTANT reports",
                "perm_set.add_permission CLERK invoices.view",
            ])
            let state = try await Self.state(f)
            #expect(state == [
                "code invoices invoices", "code invoices.refund Refund invoices / Money back",
                "code invoices.view View invoices", "code reports Reports",
                "set ACCOUNTANT Accountant / Books: invoices,reports", "set CLERK Clerk: invoices.view",
            ])
            let audit = try await f.sql("SELECT count(*) FROM auth.audit_log").scalar(Int.self)
            let stamp = try await f.sql("SELECT pg_get_functiondef('auth.permission_ancestors(text)'::regprocedure)").scalar(String.self)

            #expect(try await f.auth.applyPermissionCatalogue(Self.declaration).isEmpty)
            #expect(try await Self.state(f) == state)
            // Nothing written: no audit row, and the compiled catalogue was not regenerated.
            #expect(try await f.sql("SELECT count(*) FROM auth.audit_log").scalar(Int.self) == audit)
            #expect(try await f.sql("SELECT pg_get_functiondef('auth.permission_ancestors(text)'::regprocedure)").scalar(String.self) == stamp)

            // The codes work at once, and a tenant created now starts with the templates.
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let clerk = try await f.member(of: tenant, "clerk")
            try await f.auth.assignPermission(tenant: tenant, to: .user(clerk), grant: .permSet("CLERK"))
            #expect(try await f.auth.hasPermission(tenant: tenant, user: clerk, code: "invoices.view"))
            #expect(try await !f.auth.hasPermission(tenant: tenant, user: clerk, code: "invoices.refund"))
        }
    }

    @Test("names, descriptions and a set's codes follow the declaration; what it does not name stays")
    func changesAndKeeps() async throws {
        try await AuthFixture.run { f in
            try await f.auth.applyPermissionCatalogue(Self.declaration)
            // Things the declaration does not name: another application's code and template.
            _ = try await f.auth.createPermission(code: "crm.contacts", name: "Contacts")
            _ = try await f.auth.createPermSet(tenant: nil, code: "SALES", name: "Sales")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "SALES", codes: ["crm", "invoices.view"])

            var next = Self.declaration
            next.permissions[0].name = "See invoices"
            next.permissions[1].description = nil
            next.permSets[0].permissions = ["invoices.view", "invoices.refund", "reports"]
            next.permSets[1].description = "Front desk"
            let changes = try await f.auth.applyPermissionCatalogue(next)
            #expect(Self.lines(changes) == [
                "permission.update invoices.refund (description 'Money back' -> NULL)",
                "permission.update invoices.view (name 'View invoices' -> 'See invoices')",
                "perm_set.update CLERK (description NULL -> 'Front desk')",
                "perm_set.add_permission ACCOUNTANT invoices.refund",
                "perm_set.add_permission ACCOUNTANT invoices.view",
                "perm_set.remove_permission ACCOUNTANT invoices",
            ])
            let state = try await Self.state(f)
            #expect(state.contains("set ACCOUNTANT Accountant / Books: invoices.refund,invoices.view,reports"))
            #expect(state.contains("code crm.contacts Contacts"))
            #expect(state.contains("set SALES Sales: crm,invoices.view"))
            #expect(state.contains("code invoices invoices"), "a code no longer in a set stays in the catalogue")
            #expect(try await f.auth.applyPermissionCatalogue(next).isEmpty)
        }
    }

    @Test("removes exactly what \"remove\" lists: codes with their subtree, template sets; absent ones are no change")
    func removes() async throws {
        try await AuthFixture.run { f in
            try await f.auth.applyPermissionCatalogue(Self.declaration)
            try await f.catalogue(["legacy.old.deep", "legacy2"])
            let removal = Declaration(remove: .init(permissions: ["legacy", "legacy.old", "gone"], permSets: ["CLERK", "NEVER"]))
            let changes = try await f.auth.applyPermissionCatalogue(removal)
            #expect(Self.lines(changes) == [
                "perm_set.delete CLERK",
                "permission.delete legacy",
                "permission.delete legacy.old (below legacy)",
                "permission.delete legacy.old.deep (below legacy)",
            ])
            let state = try await Self.state(f)
            #expect(!state.contains { $0.hasPrefix("code legacy.") || $0.hasPrefix("code legacy ") || $0.hasPrefix("set CLERK") })
            #expect(state.contains("code legacy2 legacy2"))
            #expect(state.contains("set ACCOUNTANT Accountant / Books: invoices,reports"))
            #expect(try await f.auth.applyPermissionCatalogue(removal).isEmpty)
        }
    }

    @Test("removing a code a tenant uses is permissionInUse and changes nothing; with force it goes, with its uses")
    func removeInUse() async throws {
        try await AuthFixture.run { f in
            try await f.auth.applyPermissionCatalogue(Self.declaration)
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("reports"))
            var next = Self.declaration
            next.permSets[0].permissions = ["invoices"]
            next.remove = .init(permissions: ["reports"])
            next.permissions.removeAll { $0.code == "reports" }
            let before = try await Reliability.snapshot(f.connection)

            await expectError(.permissionInUse) { try await f.auth.applyPermissionCatalogue(next) }
            #expect(Reliability.changed(before, try await Reliability.snapshot(f.connection)) == [])
            #expect(try await f.auth.hasPermission(tenant: tenant, user: user, code: "reports"))

            let changes = try await f.auth.applyPermissionCatalogue(next, force: true)
            #expect(Self.lines(changes) == ["perm_set.remove_permission ACCOUNTANT reports", "permission.delete reports"])
            await expectError(.unknownPermission) { _ = try await f.auth.hasPermission(tenant: tenant, user: user, code: "reports") }
        }
    }

    @Test("a bad declaration fails by SQLSTATE, saying where, and changes nothing", arguments: [
        (#"[]"#, "QI010"),
        (#"{"permisions": []}"#, "QI010"),
        (#"{"permissions": {}}"#, "QI010"),
        (#"{"permissions": [{"code": "a"}]}"#, "QI010"),
        (#"{"permissions": [{"code": "a", "name": "A", "label": "x"}]}"#, "QI010"),
        (#"{"permissions": [{"code": 7, "name": "A"}]}"#, "QI010"),
        (#"{"permissions": [{"code": "a", "name": "A", "description": 1}]}"#, "QI010"),
        (#"{"permissions": [{"code": "a", "name": "A"}, {"code": "a", "name": "B"}]}"#, "QI010"),
        (#"{"permissions": [{"code": "A.b", "name": "A"}]}"#, "QI002"),
        (#"{"permissions": [{"code": null, "name": "A"}]}"#, "QI001"),
        (#"{"permissions": [{"code": "a", "name": " \t"}]}"#, "QI001"),
        (#"{"perm_sets": [{"code": "S", "name": "S"}]}"#, "QI010"),
        (#"{"perm_sets": [{"code": "S", "name": "S", "permissions": "a"}]}"#, "QI010"),
        (#"{"perm_sets": [{"code": "S", "name": "S", "permissions": ["a", "a"]}], "permissions": [{"code": "a", "name": "A"}]}"#, "QI010"),
        (#"{"perm_sets": [{"code": "bad code", "name": "S", "permissions": []}]}"#, "QI003"),
        (#"{"perm_sets": [{"code": "S", "name": "S", "permissions": ["nope"]}]}"#, "QN003"),
        (#"{"perm_sets": [{"code": "S", "name": "S", "permissions": ["Bad"]}]}"#, "QI002"),
        (#"{"remove": {"permissions": ["a"]}, "permissions": [{"code": "a.b", "name": "A"}]}"#, "QI010"),
        (#"{"remove": {"permissions": ["a"]}, "perm_sets": [{"code": "S", "name": "S", "permissions": ["a"]}]}"#, "QI010"),
        (#"{"remove": {"perm_sets": ["S"]}, "perm_sets": [{"code": "S", "name": "S", "permissions": []}]}"#, "QI010"),
        (#"{"remove": {"sets": ["S"]}}"#, "QI010"),
        (#"{"remove": ["a"]}"#, "QI010"),
        (#"not json"#, "QI010"),
        (#"{"permissions": [{"code": "a", "name": "A"}"#, "QI010"),
    ])
    func badDeclarations(json: String, sqlState: String) async throws {
        try await AuthFixture.run { f in
            // Valid parts come first in some cases: they must not be applied either.
            let before = try await Reliability.snapshot(f.connection)
            let outcome = await Outcome.of { try await f.auth.applyPermissionCatalogue(json: #"{"permissions": [{"code": "kept", "name": "K"}]}"#) }
            #expect(outcome.succeeded)
            let middle = try await Reliability.snapshot(f.connection)
            #expect(before != middle)
            let bad = await Outcome.of { try await f.auth.applyPermissionCatalogue(json: json) }
            #expect(bad.sqlState == sqlState, "\(bad)")
            #expect(Reliability.changed(middle, try await Reliability.snapshot(f.connection)) == [])
            if sqlState == "QI010", json.hasPrefix("{") && json.hasSuffix("}") {
                #expect(bad.message.contains("DETAIL"), "says where: \(bad)")
            }
        }
    }

    @Test("concurrent applies of the same declaration: the second waits, then has nothing to do (READ COMMITTED) or gets 40001 (REPEATABLE READ)")
    func concurrentApplies() async throws {
        try await AuthFixture.run { f in
            let first = ChangeLog(), second = ChangeLog()
            let result = try await Reliability.race(f, first: { auth in
                first.record(try await auth.applyPermissionCatalogue(Self.declaration))
            }, second: { auth in
                second.record(try await auth.applyPermissionCatalogue(Self.declaration))
            })
            #expect(result.first.succeeded && result.second.succeeded, "\(result.second)")
            #expect(result.secondWasBlocked)
            #expect(first.changes?.count == 9)
            #expect(second.changes == [])

            var more = Self.declaration
            more.permissions.append(.init(code: "exports", name: "Exports"))
            let next = more
            let older = try await Reliability.onOlderSnapshot(f, isolation: .repeatableRead, first: { auth in
                try await auth.applyPermissionCatalogue(next)
            }, second: { auth in
                try await auth.applyPermissionCatalogue(next)
            })
            #expect(older.isSerializationFailure, "\(older)")
        }
    }

    @Test("templates change for tenants created afterwards; existing tenants keep their copies")
    func templatesAndTenants() async throws {
        try await AuthFixture.run { f in
            try await f.auth.applyPermissionCatalogue(Self.declaration)
            let before = try await f.tenant("Before")
            var next = Self.declaration
            next.permSets[1].permissions = ["invoices"]
            try await f.auth.applyPermissionCatalogue(next)
            let after = try await f.tenant("After")
            #expect(try await f.auth.listPermSetPermissions(tenant: before, permSet: "CLERK").map(\.code) == ["invoices.view"])
            #expect(try await f.auth.listPermSetPermissions(tenant: after, permSet: "CLERK").map(\.code) == ["invoices"])
            #expect(try await f.auth.listPermSetPermissions(tenant: nil, permSet: "CLERK").map(\.code) == ["invoices"])
        }
    }
}

/// The changes one racing session saw.
final class ChangeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [CatalogueChange]?
    func record(_ changes: [CatalogueChange]) { lock.withLock { recorded = changes } }
    var changes: [CatalogueChange]? { lock.withLock { recorded } }
}
