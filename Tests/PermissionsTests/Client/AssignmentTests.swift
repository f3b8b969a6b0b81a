import Foundation
import Permissions
import PQ
import Testing

@Suite("Permission assignments")
struct AssignmentTests {
    /// The four shapes of an assignment: to a user or a group, of a set or a single permission.
    enum Shape: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case userSet, userPermission, groupSet, groupPermission
        var testDescription: String { rawValue }
        var toGroup: Bool { self == .groupSet || self == .groupPermission }
        var grant: Grant { self == .userSet || self == .groupSet ? .permSet("READERS") : .permission("docs") }
    }

    /// A tenant with a member, a group holding that member, a set READERS containing
    /// `docs.read`, and the catalogue codes `docs`, `docs.read`, `docs.write`.
    struct World {
        let tenant: TenantID
        let user: UserID
        let group: UserGroupID
        func grantee(_ shape: Shape) -> Grantee { shape.toGroup ? .group(group) : .user(user) }
    }

    static func world(_ f: AuthFixture, _ name: String = "Tenant") async throws -> World {
        try await f.catalogue(["docs.read", "docs.write"])
        let tenant = try await f.tenant(name)
        let user = try await f.member(of: tenant)
        let group = try await f.auth.createUserGroup(tenant: tenant, code: "TEAM", name: "Team")
        try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
        _ = try await f.auth.createPermSet(tenant: tenant, code: "READERS", name: "Readers")
        try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "READERS", codes: ["docs.read"])
        return World(tenant: tenant, user: user, group: group)
    }

    static func assignmentCount(_ f: AuthFixture) async throws -> Int {
        try await f.sql("SELECT count(*) FROM auth.permission_assignment").scalar(Int.self)
    }

    /// Expects `body` to fail with a server error of SQLSTATE `state` (for raw SQL, which is not mapped).
    static func expectSQLState(_ state: SQLState, sourceLocation: SourceLocation = #_sourceLocation,
                               _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected SQLSTATE \(state), but nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as PostgresError {
            #expect(error.code == state, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected SQLSTATE \(state), got \(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: assign_permission

    @Test("assign_permission records the assignment and grants it at once", arguments: Shape.allCases)
    func assign(_ shape: Shape) async throws {
        try await AuthFixture.run { f in
            let w = try await Self.world(f)
            #expect(try await !f.auth.hasPermission(tenant: w.tenant, user: w.user, code: "docs.read"))

            let id = try await f.auth.assignPermission(tenant: w.tenant, to: w.grantee(shape), grant: shape.grant)
            let row = try await f.sql("""
                SELECT a.tenant_id, a.user_id, a.user_group_id, ps.code AS set_code, p.code::text AS perm_code
                  FROM auth.permission_assignment a
                  LEFT JOIN auth.perm_set ps ON ps.perm_set_id = a.perm_set_id
                  LEFT JOIN auth.permission p ON p.permission_id = a.permission_id
                 WHERE a.assignment_id = $1
                """, [id]).single()
            #expect(try row.decode(TenantID.self, column: "tenant_id") == w.tenant)
            #expect(try row.decode(UserID?.self, column: "user_id") == (shape.toGroup ? nil : w.user))
            #expect(try row.decode(UserGroupID?.self, column: "user_group_id") == (shape.toGroup ? w.group : nil))
            switch shape.grant {
            case .permSet(let code):
                #expect(try row.decode(String?.self, column: "set_code") == code)
                #expect(try row.decode(String?.self, column: "perm_code") == nil)
            case .permission(let code):
                #expect(try row.decode(String?.self, column: "set_code") == nil)
                #expect(try row.decode(String?.self, column: "perm_code") == code)
            }
            // docs.read comes through the set, or through `docs`, its parent.
            #expect(try await f.auth.hasPermission(tenant: w.tenant, user: w.user, code: "docs.read"))
            #expect(try await Self.assignmentCount(f) == 1)
        }
    }

    @Test("the same assignment twice fails and leaves one", arguments: Shape.allCases)
    func assignTwice(_ shape: Shape) async throws {
        try await AuthFixture.run { f in
            let w = try await Self.world(f)
            let first = try await f.auth.assignPermission(tenant: w.tenant, to: w.grantee(shape), grant: shape.grant)
            await expectError(.alreadyAssigned) {
                try await f.auth.assignPermission(tenant: w.tenant, to: w.grantee(shape), grant: shape.grant)
            }
            #expect(try await f.sql("SELECT assignment_id FROM auth.permission_assignment").scalar(AssignmentID.self) == first)
        }
    }

    @Test("unassign_permission removes the assignment and what it granted", arguments: Shape.allCases)
    func unassign(_ shape: Shape) async throws {
        try await AuthFixture.run { f in
            let w = try await Self.world(f)
            try await f.auth.assignPermission(tenant: w.tenant, to: w.grantee(shape), grant: shape.grant)
            try await f.auth.unassignPermission(tenant: w.tenant, from: w.grantee(shape), grant: shape.grant)
            #expect(try await Self.assignmentCount(f) == 0)
            #expect(try await !f.auth.hasPermission(tenant: w.tenant, user: w.user, code: "docs.read"))
            // Gone: a second removal finds nothing.
            await expectError(.unknownAssignment) {
                try await f.auth.unassignPermission(tenant: w.tenant, from: w.grantee(shape), grant: shape.grant)
            }
        }
    }

    @Test("a grant to a group reaches its members and no other member of the tenant")
    func groupGrantReachesMembersOnly() async throws {
        try await AuthFixture.run { f in
            let w = try await Self.world(f)
            let outside = try await f.member(of: w.tenant)
            try await f.auth.assignPermission(tenant: w.tenant, to: .group(w.group), grant: .permission("docs.write"))
            #expect(try await f.auth.hasPermission(tenant: w.tenant, user: w.user, code: "docs.write"))
            #expect(try await !f.auth.hasPermission(tenant: w.tenant, user: outside, code: "docs.write"))
        }
    }

    @Test("assignments of one grant to a user and to their group are separate, and removing one leaves the other")
    func userAndGroupAreSeparate() async throws {
        try await AuthFixture.run { f in
            let w = try await Self.world(f)
            try await f.auth.assignPermission(tenant: w.tenant, to: .user(w.user), grant: .permSet("READERS"))
            try await f.auth.assignPermission(tenant: w.tenant, to: .group(w.group), grant: .permSet("READERS"))
            try await f.auth.assignPermission(tenant: w.tenant, to: .user(w.user), grant: .permission("docs.read"))
            #expect(try await Self.assignmentCount(f) == 3)

            try await f.auth.unassignPermission(tenant: w.tenant, from: .user(w.user), grant: .permSet("READERS"))
            try await f.auth.unassignPermission(tenant: w.tenant, from: .user(w.user), grant: .permission("docs.read"))
            #expect(try await Self.assignmentCount(f) == 1)
            #expect(try await f.auth.hasPermission(tenant: w.tenant, user: w.user, code: "docs.read"))
            await expectError(.unknownAssignment) {
                try await f.auth.unassignPermission(tenant: w.tenant, from: .user(w.user), grant: .permSet("READERS"))
            }
            #expect(try await Self.assignmentCount(f) == 1)
        }
    }

    @Test("assign_permission refuses unknown ids, unknown or malformed codes and blank arguments, assigning nothing")
    func assignErrors() async throws {
        try await AuthFixture.run { f in
            let w = try await Self.world(f)
            let outsider = try await f.user("outsider")
            let cases: [(PermissionsError.Code, TenantID, Grantee, Grant)] = [
                (.unknownTenant, TenantID(UUID()), .user(w.user), .permission("docs.read")),
                (.unknownUser, w.tenant, .user(UserID(UUID())), .permission("docs.read")),
                (.notTenantMember, w.tenant, .user(outsider), .permission("docs.read")),
                (.unknownUserGroup, w.tenant, .group(UserGroupID(UUID())), .permission("docs.read")),
                (.unknownPermSet, w.tenant, .user(w.user), .permSet("MISSING")),
                (.unknownPermission, w.tenant, .user(w.user), .permission("docs.delete")),
                (.invalidPermissionCode, w.tenant, .group(w.group), .permission("Docs.Read")),
                (.invalidArgument, w.tenant, .user(w.user), .permission("")),
                (.invalidArgument, w.tenant, .group(w.group), .permSet("")),
            ]
            for (code, tenant, grantee, grant) in cases {
                await expectError(code) { try await f.auth.assignPermission(tenant: tenant, to: grantee, grant: grant) }
            }
            #expect(try await Self.assignmentCount(f) == 0)
            #expect(try await !f.auth.hasPermission(tenant: w.tenant, user: w.user, code: "docs.read"))
        }
    }

    @Test("unassign_permission refuses unknown ids and codes, and reports a missing assignment, removing nothing")
    func unassignErrors() async throws {
        try await AuthFixture.run { f in
            let w = try await Self.world(f)
            try await f.auth.assignPermission(tenant: w.tenant, to: .user(w.user), grant: .permSet("READERS"))
            let outsider = try await f.user("outsider")
            let cases: [(PermissionsError.Code, TenantID, Grantee, Grant)] = [
                (.unknownTenant, TenantID(UUID()), .user(w.user), .permSet("READERS")),
                (.unknownUser, w.tenant, .user(UserID(UUID())), .permSet("READERS")),
                (.notTenantMember, w.tenant, .user(outsider), .permSet("READERS")),
                (.unknownUserGroup, w.tenant, .group(UserGroupID(UUID())), .permSet("READERS")),
                (.unknownPermSet, w.tenant, .user(w.user), .permSet("MISSING")),
                (.unknownPermission, w.tenant, .user(w.user), .permission("docs.delete")),
                (.invalidPermissionCode, w.tenant, .user(w.user), .permission("docs-read")),
                (.invalidArgument, w.tenant, .user(w.user), .permSet("")),
                // Valid, but not assigned: the set is the user's, not the group's; docs.read only comes through the set.
                (.unknownAssignment, w.tenant, .group(w.group), .permSet("READERS")),
                (.unknownAssignment, w.tenant, .user(w.user), .permission("docs.read")),
            ]
            for (code, tenant, grantee, grant) in cases {
                await expectError(code) { try await f.auth.unassignPermission(tenant: tenant, from: grantee, grant: grant) }
            }
            #expect(try await Self.assignmentCount(f) == 1)
            #expect(try await f.auth.hasPermission(tenant: w.tenant, user: w.user, code: "docs.read"))
        }
    }

    // MARK: Tenant isolation

    @Test("a group of another tenant cannot be assigned to, nor unassigned from")
    func groupOfAnotherTenant() async throws {
        try await AuthFixture.run { f in
            let a = try await Self.world(f, "A")
            let b = try await Self.world(f, "B")
            try await f.auth.assignPermission(tenant: a.tenant, to: .group(a.group), grant: .permission("docs.write"))
            await expectError(.unknownUserGroup) {
                try await f.auth.assignPermission(tenant: b.tenant, to: .group(a.group), grant: .permSet("READERS"))
            }
            await expectError(.unknownUserGroup) {
                try await f.auth.unassignPermission(tenant: b.tenant, from: .group(a.group), grant: .permission("docs.write"))
            }
            #expect(try await Self.assignmentCount(f) == 1)
            #expect(try await f.auth.hasPermission(tenant: a.tenant, user: a.user, code: "docs.write"))
            #expect(try await !f.auth.hasPermission(tenant: b.tenant, user: b.user, code: "docs.read"))
        }
    }

    @Test("a set that exists only in another tenant is unknown; a set with the same code resolves to the tenant's own")
    func setOfAnotherTenant() async throws {
        try await AuthFixture.run { f in
            let a = try await Self.world(f, "A")
            let b = try await Self.world(f, "B")
            _ = try await f.auth.createPermSet(tenant: a.tenant, code: "WRITERS", name: "Writers")
            try await f.auth.addPermSetPermissions(tenant: a.tenant, permSet: "WRITERS", codes: ["docs.write"])
            await expectError(.unknownPermSet) {
                try await f.auth.assignPermission(tenant: b.tenant, to: .user(b.user), grant: .permSet("WRITERS"))
            }
            #expect(try await Self.assignmentCount(f) == 0)

            // Both tenants have a READERS set; make them differ, and assign B's.
            try await f.auth.removePermSetPermissions(tenant: b.tenant, permSet: "READERS", codes: ["docs.read"])
            try await f.auth.addPermSetPermissions(tenant: b.tenant, permSet: "READERS", codes: ["docs.write"])
            try await f.auth.addUserToTenant(b.tenant, user: a.user)
            try await f.auth.assignPermission(tenant: b.tenant, to: .user(a.user), grant: .permSet("READERS"))
            let assigned = try await f.sql("""
                SELECT a.tenant_id = ps.tenant_id AND ps.tenant_id = $1
                  FROM auth.permission_assignment a JOIN auth.perm_set ps USING (perm_set_id)
                """, [b.tenant]).scalar(Bool.self)
            #expect(assigned)
            #expect(try await f.auth.hasPermission(tenant: b.tenant, user: a.user, code: "docs.write"))
            #expect(try await !f.auth.hasPermission(tenant: b.tenant, user: a.user, code: "docs.read"))
            #expect(try await !f.auth.hasPermission(tenant: a.tenant, user: a.user, code: "docs.read"))
        }
    }

    @Test("a user who is a member of another tenant only cannot be assigned to")
    func userOfAnotherTenant() async throws {
        try await AuthFixture.run { f in
            let a = try await Self.world(f, "A")
            let b = try await Self.world(f, "B")
            await expectError(.notTenantMember) {
                try await f.auth.assignPermission(tenant: b.tenant, to: .user(a.user), grant: .permSet("READERS"))
            }
            await expectError(.notTenantMember) {
                try await f.auth.unassignPermission(tenant: b.tenant, from: .user(a.user), grant: .permSet("READERS"))
            }
            #expect(try await Self.assignmentCount(f) == 0)
        }
    }

    @Test("an assignment in one tenant grants nothing in another, and cannot be removed from there")
    func assignmentStaysInItsTenant() async throws {
        try await AuthFixture.run { f in
            let a = try await Self.world(f, "A")
            let b = try await Self.world(f, "B")
            try await f.auth.addUserToTenant(b.tenant, user: a.user)
            try await f.auth.assignPermission(tenant: a.tenant, to: .user(a.user), grant: .permission("docs"))
            #expect(try await f.auth.hasPermission(tenant: a.tenant, user: a.user, code: "docs.write"))
            #expect(try await !f.auth.hasPermission(tenant: b.tenant, user: a.user, code: "docs.write"))

            await expectError(.unknownAssignment) {
                try await f.auth.unassignPermission(tenant: b.tenant, from: .user(a.user), grant: .permission("docs"))
            }
            #expect(try await f.auth.hasPermission(tenant: a.tenant, user: a.user, code: "docs.write"))
        }
    }

    @Test("direct inserts referencing another tenant's group, set or member are refused by the composite foreign keys")
    func directDMLAcrossTenants() async throws {
        try await AuthFixture.run { f in
            let a = try await Self.world(f, "A")
            let b = try await Self.world(f, "B")
            let setOfA = try await f.sql("SELECT perm_set_id FROM auth.perm_set WHERE tenant_id = $1 AND code = 'READERS'",
                                         [a.tenant]).scalar(PermSetID.self)
            let docs = try await f.sql("SELECT permission_id FROM auth.permission WHERE code::text = 'docs'").scalar(PermissionID.self)
            await Self.expectSQLState(.foreignKeyViolation) {
                try await f.sql("INSERT INTO auth.permission_assignment (tenant_id, user_group_id, permission_id) VALUES ($1, $2, $3)",
                                [b.tenant, a.group, docs])
            }
            await Self.expectSQLState(.foreignKeyViolation) {
                try await f.sql("INSERT INTO auth.permission_assignment (tenant_id, user_id, perm_set_id) VALUES ($1, $2, $3)",
                                [b.tenant, b.user, setOfA])
            }
            await Self.expectSQLState(.foreignKeyViolation) {
                try await f.sql("INSERT INTO auth.permission_assignment (tenant_id, user_id, permission_id) VALUES ($1, $2, $3)",
                                [b.tenant, a.user, docs])
            }
            #expect(try await Self.assignmentCount(f) == 0)
        }
    }

    // MARK: QI004, unreachable through the typed wrapper

    @Test("assign_permission and unassign_permission called from SQL with both or neither grantee or grant raise QI004")
    func invalidAssignmentFromSQL() async throws {
        try await AuthFixture.run { f in
            let w = try await Self.world(f)
            let none = PostgresNull()
            let shapes: [[any PostgresEncodable]] = [
                [w.tenant, w.user, w.group, "READERS", none],      // user and group
                [w.tenant, none, none, "READERS", none],           // neither user nor group
                [w.tenant, w.user, none, "READERS", "docs.read"],  // set and permission
                [w.tenant, w.user, none, none, none],              // neither set nor permission
            ]
            for function in ["assign_permission", "unassign_permission"] {
                for binds in shapes {
                    let error = try await #require(throws: PostgresError.self) {
                        try await f.sql("""
                            SELECT auth.\(function)(_tenant_id := $1, _user_id := $2, _user_group_id := $3,
                                                     _perm_set_code := $4, _perm_code := $5)
                            """, binds)
                    }
                    #expect(error.code == SQLState("QI004"), "\(function): \(error)")
                    #expect(PermissionsError(error)?.code == .invalidAssignment)
                }
            }
            #expect(try await Self.assignmentCount(f) == 0)
        }
    }

    @Test("the table itself refuses a row with both or neither grantee, whatever the caller")
    func invalidAssignmentRowsRefused() async throws {
        try await AuthFixture.run { f in
            let w = try await Self.world(f)
            let docs = try await f.sql("SELECT permission_id FROM auth.permission WHERE code::text = 'docs'").scalar(PermissionID.self)
            await Self.expectSQLState(.checkViolation) {
                try await f.sql("INSERT INTO auth.permission_assignment (tenant_id, user_id, user_group_id, permission_id) VALUES ($1, $2, $3, $4)",
                                [w.tenant, w.user, w.group, docs])
            }
            await Self.expectSQLState(.checkViolation) {
                try await f.sql("INSERT INTO auth.permission_assignment (tenant_id, user_id) VALUES ($1, $2)", [w.tenant, w.user])
            }
            #expect(try await Self.assignmentCount(f) == 0)
        }
    }
}
