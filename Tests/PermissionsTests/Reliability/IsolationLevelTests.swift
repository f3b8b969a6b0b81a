import Foundation
import Permissions
import PQ
import Testing

/// A change made on a snapshot that misses another session's committed change to the same
/// rights either computes the right rows or fails with 40001, at every isolation level
/// (effective_access.sql, "Concurrency"). Each case is a pair of changes that once left a
/// stale row in `auth.effective_access` when the second ran under REPEATABLE READ or
/// SERIALIZABLE; each runs in both orders and in both interleavings: the second session
/// holding a snapshot taken before the first committed, and the second session seen
/// blocked by the first's open transaction.
@Suite("Reliability: isolation levels")
struct IsolationLevelTests {
    /// The people and things of one case: alice owns the tenant, bob is a member in a group
    /// granted `users.view`, carol is a member without rights, and a second tenant has none of them.
    struct World: Sendable {
        let tenant: TenantID
        let otherTenant: TenantID
        let alice: UserID
        let bob: UserID
        let carol: UserID
        let group: UserGroupID

        static func make(_ f: AuthFixture) async throws -> World {
            try await f.catalogue(["users.view", "users.edit"])
            let alice = try await f.user("alice")
            let tenant = try await f.tenant(owner: alice)
            let bob = try await f.member(of: tenant, "bob")
            let carol = try await f.member(of: tenant, "carol")
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: bob)
            _ = try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permission("users.view"))
            let otherTenant = try await f.tenant("Other")
            return World(tenant: tenant, otherTenant: otherTenant, alice: alice, bob: bob, carol: carol, group: group)
        }
    }

    typealias Change = @Sendable (AuthClient, World) async throws -> Void

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        /// Run before the race, to reach the state the case starts from.
        var prepare: @Sendable (AuthFixture, World) async throws -> Void = { _, _ in }
        let first: Change
        let second: Change
        var testDescription: String { name }

        /// Each case with its two changes swapped.
        var swapped: Case { Case(name: "\(name) (swapped)", prepare: prepare, first: second, second: first) }

        static let pairs: [Case] = [
            Case(name: "deactivate_tenant, assign_permission",
                 first: { auth, w in try await auth.deactivateTenant(w.tenant) },
                 second: { auth, w in _ = try await auth.assignPermission(tenant: w.tenant, to: .user(w.carol), grant: .permission("users.edit")) }),
            Case(name: "deactivate_user_group, remove_user_from_tenant",
                 first: { auth, w in try await auth.deactivateUserGroup(tenant: w.tenant, group: w.group) },
                 second: { auth, w in try await auth.removeUserFromTenant(w.tenant, user: w.bob) }),
            Case(name: "UPDATE auth.tenant SET is_active = false, assign_tenant_owner",
                 first: { auth, w in
                     try await auth.executor.query("UPDATE auth.tenant SET is_active = false WHERE tenant_id = $1", [w.tenant], prepared: false)
                 },
                 second: { auth, w in try await auth.assignTenantOwner(w.tenant, user: w.carol) }),
            Case(name: "activate_tenant, activate_user (a stale denial)",
                 prepare: { f, w in
                     try await f.auth.deactivateTenant(w.tenant)
                     try await f.auth.deactivateUser(w.bob)
                 },
                 first: { auth, w in try await auth.activateTenant(w.tenant) },
                 second: { auth, w in try await auth.activateUser(w.bob) }),
            Case(name: "deactivate_user, add_user_to_tenant of another tenant (across tenants)",
                 first: { auth, w in try await auth.deactivateUser(w.bob) },
                 second: { auth, w in try await auth.addUserToTenant(w.otherTenant, user: w.bob) }),
            Case(name: "UPDATE auth.user_info SET is_active = false, add_user_to_group",
                 first: { auth, w in
                     try await auth.executor.query("UPDATE auth.user_info SET is_active = false WHERE user_id = $1", [w.carol], prepared: false)
                 },
                 second: { auth, w in try await auth.addUserToGroup(tenant: w.tenant, group: w.group, user: w.carol) }),
        ]
        static let all: [Case] = pairs + pairs.map(\.swapped)
    }

    /// The second change succeeded (READ COMMITTED must succeed: it sees the first change) or,
    /// above READ COMMITTED, failed with 40001; and the cache equals the source tables.
    static func expectRightRowsOrRetry(_ f: AuthFixture, _ outcome: Outcome, _ isolation: IsolationLevel,
                                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
        if isolation == .readCommitted {
            #expect(outcome.succeeded, "\(outcome)", sourceLocation: sourceLocation)
        } else {
            // Every pair changes rights in the same tenant or of the same user: they conflict.
            #expect(outcome.isSerializationFailure, "expected 40001, got \(outcome)", sourceLocation: sourceLocation)
        }
        try await ConcurrencyTests.expectAccessConsistent(f, sourceLocation: sourceLocation)
    }

    @Test("the second change runs on a snapshot taken before the first committed: right rows or 40001",
          arguments: Case.all, IsolationLevel.allCases)
    func olderSnapshot(_ testCase: Case, _ isolation: IsolationLevel) async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            try await testCase.prepare(f, world)
            let outcome = try await Reliability.onOlderSnapshot(f, isolation: isolation,
                                                                first: { try await testCase.first($0, world) },
                                                                second: { try await testCase.second($0, world) })
            try await Self.expectRightRowsOrRetry(f, outcome, isolation)
        }
    }

    @Test("the second change waits for the first's open transaction: right rows or 40001",
          arguments: Case.all, IsolationLevel.allCases)
    func blockedByOpenTransaction(_ testCase: Case, _ isolation: IsolationLevel) async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            try await testCase.prepare(f, world)
            let race = try await Reliability.race(f, isolation: isolation,
                                                  first: { try await testCase.first($0, world) },
                                                  second: { try await testCase.second($0, world) })
            #expect(race.first.succeeded, "\(race.first)")
            #expect(race.secondWasBlocked, "session B should have waited for A")
            try await Self.expectRightRowsOrRetry(f, race.second, isolation)
        }
    }

    @Test("the issue's first reproduction: no grant survives in a tenant deactivated concurrently",
          arguments: [IsolationLevel.repeatableRead, .serializable])
    func staleGrantReproduction(_ isolation: IsolationLevel) async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            let outcome = try await Reliability.onOlderSnapshot(
                f, isolation: isolation,
                first: { try await $0.deactivateTenant(world.tenant) },
                second: { _ = try await $0.assignPermission(tenant: world.tenant, to: .user(world.carol), grant: .permission("users.edit")) })
            #expect(outcome.isSerializationFailure, "\(outcome)")
            #expect(try await !f.auth.hasPermission(tenant: world.tenant, user: world.carol, code: "users.edit"))
            #expect(try await !f.auth.checkTenantAccess(tenant: world.tenant, user: world.carol))
            #expect(try await f.auth.userPermissions(tenant: world.tenant, user: world.carol).isEmpty)
            // The application retries, now on a fresh snapshot: the assignment is kept, and
            // grants nothing while the tenant is inactive.
            _ = try await f.auth.assignPermission(tenant: world.tenant, to: .user(world.carol), grant: .permission("users.edit"))
            #expect(try await !f.auth.hasPermission(tenant: world.tenant, user: world.carol, code: "users.edit"))
            try await f.auth.activateTenant(world.tenant)
            #expect(try await f.auth.hasPermission(tenant: world.tenant, user: world.carol, code: "users.edit"))
        }
    }

    // MARK: The catalogue seen from an older snapshot

    /// A REPEATABLE READ reader whose snapshot predates a catalogue change: every check
    /// answers from its snapshot, grants and catalogue alike (permission_lookup.sql).
    @Test("a code deleted and created again after the reader's snapshot: the reader's grant still answers true",
          arguments: IsolationLevel.allCases)
    func recreatedCode(_ isolation: IsolationLevel) async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            let reader = try await Session.open(f)
            defer { Task { await reader.close() } }
            // The snapshot is taken by a plain read: a check planned before the change would
            // keep its plan, and with it the old lookup, for the rest of the transaction.
            try await reader.sql("BEGIN ISOLATION LEVEL \(isolation.rawValue)")
            try await reader.sql("SELECT count(*) FROM auth.tenant")

            // Another session deletes the code (its grants go by cascade) and creates it again.
            try await f.sql("DELETE FROM auth.permission WHERE code::text = 'users.view'")
            _ = try await f.auth.createPermission(code: "users.view", name: "View users")
            #expect(try await !f.auth.hasPermission(tenant: world.tenant, user: world.bob, code: "users.view"))

            let expected = isolation != .readCommitted  // READ COMMITTED sees the change at once
            #expect(try await reader.auth.hasPermission(tenant: world.tenant, user: world.bob, code: "users.view") == expected)
            #expect(try await reader.auth.userPermissions(tenant: world.tenant, user: world.bob).contains("users.view") == expected)
            #expect(try await reader.auth.hasPermissions(tenant: world.tenant, user: world.bob, codes: ["users.view"]) == expected)
            try await reader.sql("COMMIT")
            #expect(try await !reader.auth.hasPermission(tenant: world.tenant, user: world.bob, code: "users.view"))
        }
    }

    @Test("a code created after the reader's snapshot is unknown to it (QN003) until its next snapshot",
          arguments: IsolationLevel.allCases)
    func codeCreatedAfterSnapshot(_ isolation: IsolationLevel) async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            let reader = try await Session.open(f)
            defer { Task { await reader.close() } }
            try await reader.sql("BEGIN ISOLATION LEVEL \(isolation.rawValue)")
            try await reader.sql("SELECT count(*) FROM auth.tenant")
            // The owner passes every check of a code the lookup holds: an answer where the
            // snapshot says the code does not exist.
            _ = try await f.auth.createPermission(code: "users.delete", name: "Delete users")

            if isolation == .readCommitted {
                #expect(try await reader.auth.hasPermission(tenant: world.tenant, user: world.alice, code: "users.delete"))
            } else {
                await expectError(.unknownPermission) {
                    _ = try await reader.auth.hasPermission(tenant: world.tenant, user: world.alice, code: "users.delete")
                }
            }
            try await reader.sql("ROLLBACK")
            #expect(try await reader.auth.hasPermission(tenant: world.tenant, user: world.alice, code: "users.delete"))
        }
    }

    @Test("two catalogue changes on one older snapshot: the second fails with 40001 and the lookup loses nothing")
    func catalogueChangeOnOlderSnapshot() async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            let outcome = try await Reliability.onOlderSnapshot(
                f, isolation: .repeatableRead,
                first: { _ = try await $0.createPermission(code: "reports.view", name: "View reports") },
                second: { _ = try await $0.createPermission(code: "billing.view", name: "View billing") })
            #expect(outcome.isSerializationFailure, "\(outcome)")
            #expect(try await f.sql("SELECT auth.permission_ancestors('reports.view') IS NOT NULL").scalar(Bool.self))
            #expect(try await f.auth.hasPermission(tenant: world.tenant, user: world.alice, code: "reports.view"))
        }
    }

    // MARK: The membership key

    @Test("a membership's tenant and user cannot change by UPDATE (QS003), live or inactive",
          arguments: [true, false])
    func membershipKeyIsImmutable(_ live: Bool) async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            if !live { try await f.auth.removeUserFromTenant(world.tenant, user: world.carol) }
            for (column, value) in [("user_id", world.alice.rawValue), ("tenant_id", world.otherTenant.rawValue)] {
                let outcome = await Outcome.of {
                    try await f.sql("UPDATE auth.tenant_user SET \(column) = $1 WHERE tenant_id = $2 AND user_id = $3",
                                    [value, world.tenant, world.carol])
                }
                #expect(outcome.failed(with: .immutableColumn), "\(column): \(outcome)")
            }
            #expect(try await f.auth.checkTenantAccess(tenant: world.tenant, user: world.carol) == live)
            try await ConcurrencyTests.expectAccessConsistent(f)
        }
    }
}
