import Foundation
import Permissions
import PQ
import Testing

/// `auth.explain_permission`: the paths that grant a code, or why none does, always agreeing
/// with `auth.has_permission`.
@Suite("Explain: why a user holds a permission, or not")
struct ExplainTests {
    typealias Path = PermissionExplanation.Path
    typealias Reason = PermissionExplanation.Reason

    /// The explanation, after checking that it agrees with `has_permission`.
    static func explain(_ f: AuthFixture, _ tenant: TenantID, _ user: UserID, _ code: String,
                        sourceLocation: SourceLocation = #_sourceLocation) async throws -> [PermissionExplanation] {
        let rows = try await f.auth.explainPermission(tenant: tenant, user: user, code: code)
        let granted = try await f.auth.hasPermission(tenant: tenant, user: user, code: code)
        #expect(!rows.isEmpty, sourceLocation: sourceLocation)
        #expect(rows.allSatisfy { $0.granted == granted }, "has_permission says \(granted)", sourceLocation: sourceLocation)
        #expect(rows.allSatisfy { ($0.reason == nil) == granted }, sourceLocation: sourceLocation)
        return rows
    }

    @Test("every path that grants: owner, direct set, direct code, group → set, group → code, through ancestors too")
    func grantingPaths() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read", "docs.write"])
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let ann = try await f.member(of: tenant, "ann")
            _ = try await f.auth.createPermSet(tenant: tenant, code: "READER", name: "Reader")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "READER", codes: ["docs", "docs.read"])
            let staff = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            try await f.auth.addUserToGroup(tenant: tenant, group: staff, user: ann)
            let direct = try await f.auth.assignPermission(tenant: tenant, to: .user(ann), grant: .permSet("READER"))
            let code = try await f.auth.assignPermission(tenant: tenant, to: .user(ann), grant: .permission("docs.read"))
            let groupSet = try await f.auth.assignPermission(tenant: tenant, to: .group(staff), grant: .permSet("READER"))
            let groupCode = try await f.auth.assignPermission(tenant: tenant, to: .group(staff), grant: .permission("docs"))
            try await f.auth.assignTenantOwner(tenant, user: ann)

            let rows = try await Self.explain(f, tenant, ann, "docs.read")
            #expect(rows.map(\.path) == [.owner, .directSet, .directSet, .directCode, .groupSet, .groupSet, .groupCode])
            #expect(rows.map(\.grantedCode) == [nil, "docs", "docs.read", "docs.read", "docs", "docs.read", "docs"])
            #expect(rows.map(\.assignmentID) == [nil, direct, direct, code, groupSet, groupSet, groupCode])
            #expect(rows.map(\.permSetCode) == [nil, "READER", "READER", nil, "READER", "READER", nil])
            #expect(rows.filter { $0.path == .groupSet || $0.path == .groupCode }.allSatisfy { $0.groupID == staff && $0.groupCode == "STAFF" })
            #expect(rows.filter { $0.path == .directSet }.allSatisfy { $0.groupID == nil && $0.permSetID != nil })

            // A code below what is held: only the ancestors grant it.
            let write = try await Self.explain(f, tenant, ann, "docs.write")
            #expect(write.map(\.path) == [.owner, .directSet, .groupSet, .groupCode])
            #expect(write.allSatisfy { $0.grantedCode == nil || $0.grantedCode == "docs" })
            #expect(try await Self.explain(f, tenant, owner, "docs").map(\.path) == [.owner])
        }
    }

    @Test("when denied: what stops the membership, every path with what stops it, and no_grant when there is none")
    func reasons() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read", "billing"])
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let ann = try await f.member(of: tenant, "ann")
            let staff = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            try await f.auth.addUserToGroup(tenant: tenant, group: staff, user: ann)
            try await f.auth.assignPermission(tenant: tenant, to: .group(staff), grant: .permission("docs"))
            try await f.auth.assignPermission(tenant: tenant, to: .user(ann), grant: .permission("docs.read"))

            // No path at all.
            let billing = try await Self.explain(f, tenant, ann, "billing")
            #expect(billing.map(\.reason) == [.noGrant] && billing[0].path == nil)

            // An inactive group stops its own paths; the direct one still grants.
            try await f.auth.deactivateUserGroup(tenant: tenant, group: staff)
            #expect(try await Self.explain(f, tenant, ann, "docs.read").map(\.path) == [.directCode])
            let groupOnly = try await Self.explain(f, tenant, ann, "docs")
            #expect(groupOnly.map(\.path) == [.groupCode] && groupOnly.map(\.reason) == [.groupInactive])

            // The membership's faults come first, one row each, and every path says what stops it;
            // a path through an inactive group keeps its own reason.
            try await f.auth.deactivateTenant(tenant)
            try await f.auth.deactivateUser(ann)
            let stopped = try await Self.explain(f, tenant, ann, "docs.read")
            #expect(stopped.map(\.reason) == [.tenantInactive, .userInactive, .tenantInactive, .groupInactive])
            #expect(stopped.map(\.path) == [nil, nil, .directCode, .groupCode])
            let ownerStopped = try await Self.explain(f, tenant, owner, "billing")
            #expect(ownerStopped.map(\.reason) == [.tenantInactive, .tenantInactive] && ownerStopped.map(\.path) == [nil, .owner])
            try await f.auth.activateTenant(tenant)
            try await f.auth.activateUser(ann)

            try await f.auth.removeUserFromTenant(tenant, user: ann)
            let soft = try await Self.explain(f, tenant, ann, "docs.read")
            #expect(soft.map(\.reason) == [.membershipInactive, .membershipInactive, .groupInactive])

            let outsider = try await f.user("outsider")
            let outside = try await Self.explain(f, tenant, outsider, "docs.read")
            #expect(outside.map(\.reason) == [.notMember, .noGrant] && outside.allSatisfy { $0.path == nil })
        }
    }

    @Test("the code fails as in has_permission (unknownPermission, invalidPermissionCode); unknown tenant or user by SQLSTATE")
    func errors() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            await expectError(.unknownPermission) { _ = try await f.auth.explainPermission(tenant: tenant, user: user, code: "docs.raed") }
            await expectError(.unknownPermission) { _ = try await f.auth.hasPermission(tenant: tenant, user: user, code: "docs.raed") }
            await expectError(.invalidPermissionCode) { _ = try await f.auth.explainPermission(tenant: tenant, user: user, code: "Docs") }
            await expectError(.invalidArgument) { _ = try await f.auth.explainPermission(tenant: tenant, user: user, code: "") }
            await expectError(.invalidArgument) { try await f.call("SELECT * FROM auth.explain_permission($1, $2, NULL)", [tenant, user]) }
            // A typo fails loudly even for an unknown tenant, as in has_permission.
            await expectError(.unknownPermission) {
                _ = try await f.auth.explainPermission(tenant: TenantID(UUID()), user: user, code: "nope")
            }
            await expectError(.unknownTenant) { _ = try await f.auth.explainPermission(tenant: TenantID(UUID()), user: user, code: "docs") }
            await expectError(.unknownUser) { _ = try await f.auth.explainPermission(tenant: tenant, user: UserID(UUID()), code: "docs") }
        }
    }

    @Test("another tenant's grants, groups and ownership never explain anything here")
    func isolation() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let ann = try await f.user("ann")
            let mine = try await f.tenant("Mine")
            let theirs = try await f.tenant("Theirs", owner: ann)
            try await f.auth.addUserToTenant(mine, user: ann)
            let group = try await f.auth.createUserGroup(tenant: theirs, code: "STAFF", name: "Staff")
            try await f.auth.addUserToGroup(tenant: theirs, group: group, user: ann)
            try await f.auth.assignPermission(tenant: theirs, to: .group(group), grant: .permission("docs"))
            try await f.auth.assignPermission(tenant: theirs, to: .user(ann), grant: .permission("docs.read"))

            #expect(try await Self.explain(f, theirs, ann, "docs.read").map(\.path) == [.owner, .directCode, .groupCode])
            #expect(try await Self.explain(f, mine, ann, "docs.read").map(\.reason) == [.noGrant])
        }
    }
}
