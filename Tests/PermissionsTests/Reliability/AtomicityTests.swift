import Foundation
import Permissions
import PQ
import Testing

/// A failure in the middle of a multi-step function leaves nothing behind: every auth table
/// (rows and count), the schema's functions (the generated catalogue lookup) and the list of
/// tables are identical before and after.
///
/// Failures that the functions raise themselves come first; then failures injected into the
/// LAST step of a function by a test-only trigger (in the test database, never in `sql/`),
/// after the earlier steps (rows, cascades, cache refresh, audit rows) have been written.
@Suite("Reliability: atomicity")
struct AtomicityTests {
    /// Runs `body`, expecting it to fail with `expected` (a SQLSTATE), and checks that the
    /// database is exactly as before.
    static func expectNothingChanged(_ f: AuthFixture, failsWith expected: String,
                                     sourceLocation: SourceLocation = #_sourceLocation,
                                     _ body: () async throws -> Void) async throws {
        let before = try await Reliability.snapshot(f.connection)
        let outcome = await Outcome.of(body)
        #expect(outcome.sqlState == expected, "expected \(expected), got \(outcome)", sourceLocation: sourceLocation)
        let after = try await Reliability.snapshot(f.connection)
        #expect(Reliability.changed(before, after).isEmpty,
                "changed by a failed call: \(Reliability.changed(before, after))", sourceLocation: sourceLocation)
        #expect(f.connection.transactionState == .idle, sourceLocation: sourceLocation)
    }

    /// Makes every `event` on `auth.table` for which `condition` (PL/pgSQL, over NEW/OLD)
    /// holds fail with SQLSTATE ZZ999 (a test-only trigger, sorted after the schema's own).
    static func injectFailure(_ f: AuthFixture, on table: String, _ event: String, when condition: String = "true") async throws {
        try await f.connection.execute(script: """
            CREATE OR REPLACE FUNCTION public.injected_failure() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF \(condition) THEN
                    RAISE EXCEPTION 'injected failure' USING ERRCODE = 'ZZ999';
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER zz_injected_failure AFTER \(event) ON auth.\(table)
                FOR EACH ROW EXECUTE FUNCTION public.injected_failure();
            """)
    }

    static func removeInjectedFailure(_ f: AuthFixture, on table: String) async throws {
        try await f.sql("DROP TRIGGER zz_injected_failure ON auth.\(table)")
    }

    /// A tenant with an owner, a member in a group that has a set assigned, a preference, and
    /// a template set (so that new tenants copy something).
    struct World: Sendable {
        let owner: UserID
        let member: UserID
        let tenant: TenantID
        let group: UserGroupID

        static func make(_ f: AuthFixture) async throws -> World {
            try await f.catalogue(["docs.read", "docs.write", "billing.view"])
            _ = try await f.auth.createPermSet(tenant: nil, code: "TEMPLATE", name: "Template")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "TEMPLATE", codes: ["docs.read", "billing.view"])
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let member = try await f.member(of: tenant)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "G", name: "Group")
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: member)
            _ = try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permSet("TEMPLATE"))
            try await f.auth.setUserPreference(user: member, tenant: tenant, key: "theme", value: "dark")
            return World(owner: owner, member: member, tenant: tenant, group: group)
        }
    }

    // MARK: Failures the functions raise

    @Test("create_tenant with an unknown owner or a taken code creates no tenant, no copied set, no audit row")
    func createTenantFails() async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            let code = try await f.sql("SELECT code FROM auth.tenant WHERE tenant_id = $1", [world.tenant]).scalar(String.self)
            try await Self.expectNothingChanged(f, failsWith: "QN002") {
                _ = try await f.auth.createTenant(name: "New", code: "NEW", owner: UserID(UUID()))
            }
            try await Self.expectNothingChanged(f, failsWith: "QD001") {
                _ = try await f.auth.createTenant(name: "New", code: code, owner: world.member)
            }
        }
    }

    @Test("add_perm_set_permissions whose last code is unknown or malformed adds none of the codes")
    func addPermSetPermissionsFails() async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            _ = try await f.auth.createPermSet(tenant: world.tenant, code: "EDIT", name: "Edit")
            _ = try await f.auth.assignPermission(tenant: world.tenant, to: .user(world.member), grant: .permSet("EDIT"))
            try await Self.expectNothingChanged(f, failsWith: "QN003") {
                try await f.auth.addPermSetPermissions(tenant: world.tenant, permSet: "EDIT",
                                                       codes: ["docs.write", "billing.view", "no.such.code"])
            }
            try await Self.expectNothingChanged(f, failsWith: "QI002") {
                try await f.auth.addPermSetPermissions(tenant: world.tenant, permSet: "EDIT", codes: ["docs.write", "Bad Code"])
            }
            try await Self.expectNothingChanged(f, failsWith: "QN003") {
                try await f.auth.removePermSetPermissions(tenant: world.tenant, permSet: "TEMPLATE",
                                                          codes: ["docs.read", "no.such.code"])
            }
            #expect(try await !f.auth.hasPermission(tenant: world.tenant, user: world.member, code: "docs.write"))
        }
    }

    @Test("duplicate_perm_set, create_user_group, assign_permission and delete_permission failing change nothing")
    func otherFunctionsFail() async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            try await Self.expectNothingChanged(f, failsWith: "QD003") {
                _ = try await f.auth.duplicatePermSet(from: nil, to: world.tenant, code: "TEMPLATE")
            }
            try await Self.expectNothingChanged(f, failsWith: "QN004") {
                _ = try await f.auth.duplicatePermSet(from: world.tenant, to: nil, code: "NOPE")
            }
            try await Self.expectNothingChanged(f, failsWith: "QD004") {
                _ = try await f.auth.createUserGroup(tenant: world.tenant, code: "G", name: "Again")
            }
            try await Self.expectNothingChanged(f, failsWith: "QD008") {
                _ = try await f.auth.assignPermission(tenant: world.tenant, to: .group(world.group), grant: .permSet("TEMPLATE"))
            }
            try await Self.expectNothingChanged(f, failsWith: "QS001") { try await f.auth.deletePermission(code: "docs") }
            try await Self.expectNothingChanged(f, failsWith: "QS002") {
                try await f.auth.removeUserFromTenant(world.tenant, user: world.owner, hard: true)
            }
        }
    }

    // MARK: Failures injected into the last step

    struct InjectedCase: Sendable, CustomTestStringConvertible {
        let name: String
        /// The table and event whose trigger fails, and an optional WHEN condition.
        let table: String
        let event: String
        var condition = "true"
        let call: @Sendable (AuthClient, World) async throws -> Void
        var testDescription: String { name }

        static let all: [InjectedCase] = [
            // Tenant row, copied template sets and codes, membership, cache and audit rows
            // are written before the owner row fails.
            InjectedCase(name: "create_tenant failing at the owner row", table: "owner", event: "INSERT",
                         call: { auth, world in _ = try await auth.createTenant(name: "New", code: "NEW", owner: world.member) }),
            // The copy of the set exists before its codes fail.
            InjectedCase(name: "duplicate_perm_set failing at the codes", table: "perm_set_permission", event: "INSERT",
                         call: { auth, world in _ = try await auth.duplicatePermSet(from: nil, to: world.tenant, code: "COPY") }),
            InjectedCase(name: "add_perm_set_permissions failing at the last code", table: "perm_set_permission", event: "INSERT",
                         condition: "NEW.permission_id = (SELECT permission_id FROM auth.permission WHERE code::text = 'docs.write')",
                         call: { auth, world in
                             try await auth.addPermSetPermissions(tenant: world.tenant, permSet: "TEMPLATE",
                                                                  codes: ["docs", "docs.write"])
                         }),
            // Deleting the tenant cascades through every table before the tenant row's own
            // audit row is written.
            InjectedCase(name: "delete_tenant failing at the tenant row", table: "tenant", event: "DELETE",
                         call: { auth, world in try await auth.deleteTenant(world.tenant) }),
            InjectedCase(name: "remove_user_from_tenant (hard) failing at the cascaded preference", table: "user_tenant_preference",
                         event: "DELETE",
                         call: { auth, world in try await auth.removeUserFromTenant(world.tenant, user: world.member, hard: true) }),
            InjectedCase(name: "transfer_tenant_ownership failing at the new owner row", table: "owner", event: "INSERT",
                         call: { auth, world in try await auth.transferTenantOwnership(world.tenant, to: world.member) }),
            InjectedCase(name: "create_permission failing at the new code after creating its parents", table: "permission",
                         event: "INSERT", condition: "NEW.code::text = 'new.deep.code'",
                         call: { auth, _ in _ = try await auth.createPermission(code: "new.deep.code", name: "Deep") }),
            InjectedCase(name: "delete_user_group failing at the group row after its cascades", table: "user_group", event: "DELETE",
                         call: { auth, world in try await auth.deleteUserGroup(tenant: world.tenant, group: world.group) }),
        ]
    }

    @Test("a failure in the last step of a function leaves nothing of the earlier steps", arguments: InjectedCase.all)
    func injectedFailure(_ testCase: InjectedCase) async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            _ = try await f.auth.createPermSet(tenant: nil, code: "COPY", name: "Copy")
            try await f.auth.addPermSetPermissions(tenant: nil, permSet: "COPY", codes: ["docs.read"])
            try await Self.injectFailure(f, on: testCase.table, testCase.event, when: testCase.condition)
            try await Self.expectNothingChanged(f, failsWith: "ZZ999") { try await testCase.call(f.auth, world) }
            #expect(try await f.auth.hasPermission(tenant: world.tenant, user: world.member, code: "docs.read"))
            #expect(try await f.auth.hasPermission(tenant: world.tenant, user: world.owner, code: "billing"))
            // The same call succeeds once the failure is removed: the injected step was reached.
            try await Self.removeInjectedFailure(f, on: testCase.table)
            try await testCase.call(f.auth, world)
        }
    }

    // MARK: Inside the caller's transaction

    @Test("a failed call inside a transaction: ROLLBACK TO SAVEPOINT keeps the earlier work, and the cache with it")
    func savepoint() async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            let session = try await Session.open(f)
            defer { Task { await session.close() } }
            let auth = session.auth

            try await session.sql("BEGIN")
            _ = try await auth.assignPermission(tenant: world.tenant, to: .user(world.member), grant: .permission("docs.write"))
            let earlier = try await auth.createUser(username: "earlier-work")
            try await session.sql("SAVEPOINT before_failure")
            // Succeeds, then a failing call in the same subtransaction.
            try await auth.removeUserFromGroup(tenant: world.tenant, group: world.group, user: world.member)
            #expect(try await !auth.hasPermission(tenant: world.tenant, user: world.member, code: "docs.read"))
            await expectError(.unknownPermission) {
                try await auth.addPermSetPermissions(tenant: world.tenant, permSet: "TEMPLATE", codes: ["docs", "nope"])
            }
            #expect(session.connection.transactionState == .failed)
            // Nothing else runs until the rollback.
            let blockedCall = await Outcome.of { _ = try await auth.hasPermission(tenant: world.tenant, user: world.member, code: "docs") }
            #expect(blockedCall.sqlState == SQLState.inFailedSQLTransaction.rawValue, "\(blockedCall)")

            try await session.sql("ROLLBACK TO SAVEPOINT before_failure")
            #expect(session.connection.transactionState == .inTransaction)
            // Back to the savepoint: the group membership is back, the earlier work is there.
            #expect(try await auth.hasPermission(tenant: world.tenant, user: world.member, code: "docs.read"))
            #expect(try await auth.hasPermission(tenant: world.tenant, user: world.member, code: "docs.write"))
            try await session.sql("COMMIT")

            #expect(try await f.sql("SELECT count(*) FROM auth.user_info WHERE user_id = $1", [earlier]).scalar(Int.self) == 1)
            #expect(try await f.auth.hasPermission(tenant: world.tenant, user: world.member, code: "docs.write"))
            #expect(try await f.auth.hasPermission(tenant: world.tenant, user: world.member, code: "docs.read"))
            #expect(try await Reliability.staleAccess(f.connection).isEmpty)
        }
    }

    @Test("a failed call inside a transaction without a savepoint: the whole transaction is lost, earlier work included")
    func noSavepoint() async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            let before = try await Reliability.snapshot(f.connection)
            let session = try await Session.open(f)
            defer { Task { await session.close() } }
            let outcome = await Outcome.of {
                try await session.connection.withTransaction { connection in
                    let auth = AuthClient(connection)
                    _ = try await auth.assignPermission(tenant: world.tenant, to: .user(world.member), grant: .permission("docs.write"))
                    _ = try await auth.createUser(username: "lost-work")
                    _ = try await auth.createTenant(name: "Lost", code: "LOST", owner: world.member)
                    _ = try await auth.createUserGroup(tenant: world.tenant, code: "G", name: "Taken")  // QD004
                }
            }
            #expect(outcome.failed(with: .userGroupCodeTaken), "\(outcome)")
            #expect(session.connection.transactionState == .idle)
            let after = try await Reliability.snapshot(f.connection)
            #expect(Reliability.changed(before, after).isEmpty, "\(Reliability.changed(before, after))")
            #expect(try await !f.auth.hasPermission(tenant: world.tenant, user: world.member, code: "docs.write"))
        }
    }
}
