import Foundation
import Permissions
import PQ
import Testing

/// Real concurrent sessions on one database, interleaved deterministically with
/// ``Reliability/race(_:first:second:)``: A changes and holds its transaction open, B starts
/// the conflicting change and is seen waiting for A's lock, A commits, B finishes.
@Suite("Reliability: concurrency")
struct ConcurrencyTests {
    // MARK: Helpers

    /// The tenant's effective access is exactly what the source tables say, and what a
    /// from-scratch recomputation gives.
    static func expectAccessConsistent(_ f: AuthFixture, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let stale = try await Reliability.staleAccess(f.connection)
        #expect(stale.isEmpty, "effective_access differs from the source tables:\n\(stale.joined(separator: "\n"))",
                sourceLocation: sourceLocation)
        let difference = try await Reliability.refreshDifference(f.connection)
        #expect(difference.isEmpty, "effective_access differs from a full refresh:\n\(difference.joined(separator: "\n"))",
                sourceLocation: sourceLocation)
    }

    static func has(_ f: AuthFixture, _ tenant: TenantID, _ user: UserID, _ code: String) async throws -> Bool {
        try await f.auth.hasPermission(tenant: tenant, user: user, code: code)
    }

    static func count(_ f: AuthFixture, _ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> Int {
        try await f.sql(sql, binds).scalar(Int.self)
    }

    // MARK: Creating the same thing twice

    struct DuplicateCase: Sendable, CustomTestStringConvertible {
        let name: String
        let expected: PermissionsError.Code
        /// Creates the object; `session` is 1 or 2, for the parts that may differ.
        let create: @Sendable (AuthClient, TenantID, Int) async throws -> Void
        /// Counts the objects with the contested key.
        let countSQL: String
        var testDescription: String { name }

        static let all: [DuplicateCase] = [
            DuplicateCase(name: "tenant code", expected: .tenantCodeTaken,
                          create: { auth, _, session in _ = try await auth.createTenant(name: "Race \(session)", code: "RACE") },
                          countSQL: "SELECT count(*) FROM auth.tenant WHERE code = 'RACE'"),
            DuplicateCase(name: "tenant code taken by a rename", expected: .tenantCodeTaken,
                          create: { auth, tenant, session in
                              if session == 1 {
                                  _ = try await auth.createTenant(name: "Race", code: "RACE")
                              } else {
                                  try await auth.updateTenant(tenant, code: "RACE")
                              }
                          },
                          countSQL: "SELECT count(*) FROM auth.tenant WHERE code = 'RACE'"),
            DuplicateCase(name: "username, differing in case", expected: .usernameTaken,
                          create: { auth, _, session in _ = try await auth.createUser(username: session == 1 ? "racer" : "RACER") },
                          countSQL: "SELECT count(*) FROM auth.user_info WHERE lower(username) = 'racer'"),
            DuplicateCase(name: "group code", expected: .userGroupCodeTaken,
                          create: { auth, tenant, session in
                              _ = try await auth.createUserGroup(tenant: tenant, code: "RACE", name: "Race \(session)")
                          },
                          countSQL: "SELECT count(*) FROM auth.user_group WHERE code = 'RACE'"),
            DuplicateCase(name: "permission set code", expected: .permSetCodeTaken,
                          create: { auth, tenant, session in
                              _ = try await auth.createPermSet(tenant: tenant, code: "RACE", name: "Race \(session)")
                          },
                          countSQL: "SELECT count(*) FROM auth.perm_set WHERE code = 'RACE'"),
            DuplicateCase(name: "template permission set code", expected: .permSetCodeTaken,
                          create: { auth, _, session in
                              _ = try await auth.createPermSet(tenant: nil, code: "RACE", name: "Race \(session)")
                          },
                          countSQL: "SELECT count(*) FROM auth.perm_set WHERE code = 'RACE'"),
            DuplicateCase(name: "permission code with a new parent", expected: .permissionExists,
                          create: { auth, _, session in _ = try await auth.createPermission(code: "race.start", name: "Start \(session)") },
                          countSQL: "SELECT count(*) FROM auth.permission WHERE code::text IN ('race', 'race.start')"),
        ]
    }

    @Test("two sessions creating the same key: one succeeds, the other gets our documented error",
          arguments: DuplicateCase.all)
    func duplicateCreation(_ testCase: DuplicateCase) async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let before = try await Self.count(f, testCase.countSQL)
            let race = try await Reliability.race(f, first: { try await testCase.create($0, tenant, 1) },
                                                  second: { try await testCase.create($0, tenant, 2) })
            #expect(race.first.succeeded, "\(race.first)")
            #expect(race.secondWasBlocked, "session B should have waited for A")
            #expect(race.second.failed(with: testCase.expected), "expected \(testCase.expected), got \(race.second)")
            let created = testCase.name.hasPrefix("permission code") ? 2 : 1
            #expect(try await Self.count(f, testCase.countSQL) == before + created)
            try await Self.expectAccessConsistent(f)
        }
    }

    @Test("two sessions creating different permission codes: the compiled catalogue knows both")
    func concurrentCatalogueChanges() async throws {
        try await AuthFixture.run { f in
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            let reader = try await Session.open(f)
            defer { Task { await reader.close() } }
            // A long-lived session that has already planned the check.
            try await f.catalogue(["seed"])
            #expect(try await reader.auth.hasPermission(tenant: tenant, user: owner, code: "seed"))

            let race = try await Reliability.race(f, first: { _ = try await $0.createPermission(code: "left.one", name: "Left") },
                                                  second: { _ = try await $0.createPermission(code: "right.one", name: "Right") })
            #expect(race.first.succeeded && race.second.succeeded, "\(race.first) / \(race.second)")
            #expect(race.secondWasBlocked, "the catalogue rebuild should serialize the two sessions")
            for code in ["left", "left.one", "right", "right.one"] {
                // The generated lookup function has every code: neither rebuild lost the other's.
                #expect(try await f.sql("SELECT auth.permission_ancestors($1) IS NOT NULL", [code]).scalar(Bool.self), "\(code)")
                #expect(try await reader.auth.hasPermission(tenant: tenant, user: owner, code: code), "\(code)")
            }
        }
    }

    // MARK: Adding the same member twice

    @Test("two sessions adding the same user to a tenant: one succeeds, the other gets QD006; access is right")
    func sameTenantMember() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let tenant = try await f.tenant()
            let user = try await f.user()
            let race = try await Reliability.race(f, first: { try await $0.addUserToTenant(tenant, user: user) },
                                                  second: { try await $0.addUserToTenant(tenant, user: user) })
            #expect(race.first.succeeded, "\(race.first)")
            #expect(race.secondWasBlocked)
            #expect(race.second.failed(with: .alreadyTenantMember), "\(race.second)")
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.tenant_user WHERE tenant_id = $1 AND user_id = $2",
                                         [tenant, user]) == 1)
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: user))
            _ = try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("docs.read"))
            #expect(try await Self.has(f, tenant, user, "docs.read"))
            try await Self.expectAccessConsistent(f)
        }
    }

    @Test("two sessions reactivating the same soft-removed member: one succeeds, the other gets QD006; grants come back")
    func sameTenantMemberReactivated() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            _ = try await f.auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission("docs.read"))
            try await f.auth.removeUserFromTenant(tenant, user: user)
            #expect(try await !Self.has(f, tenant, user, "docs.read"))

            let race = try await Reliability.race(f, first: { try await $0.addUserToTenant(tenant, user: user) },
                                                  second: { try await $0.addUserToTenant(tenant, user: user) })
            #expect(race.first.succeeded, "\(race.first)")
            #expect(race.secondWasBlocked)
            #expect(race.second.failed(with: .alreadyTenantMember), "\(race.second)")
            #expect(try await Self.has(f, tenant, user, "docs.read"))
            try await Self.expectAccessConsistent(f)
        }
    }

    @Test("two sessions adding the same user to a group: one succeeds, the other gets QD007; the group's grant applies")
    func sameGroupMember() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read"])
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "READERS", name: "Readers")
            _ = try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permission("docs.read"))

            let race = try await Reliability.race(f, first: { try await $0.addUserToGroup(tenant: tenant, group: group, user: user) },
                                                  second: { try await $0.addUserToGroup(tenant: tenant, group: group, user: user) })
            #expect(race.first.succeeded, "\(race.first)")
            #expect(race.secondWasBlocked)
            #expect(race.second.failed(with: .alreadyGroupMember), "\(race.second)")
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.user_group_member WHERE user_group_id = $1", [group]) == 1)
            #expect(try await Self.has(f, tenant, user, "docs.read"))
            try await Self.expectAccessConsistent(f)
        }
    }

    // MARK: Writing under a parent that another session deletes

    /// A tenant with a group READERS (granting docs.read) of two members, a set EDIT
    /// (docs.write) and a third member `loner` in no group.
    struct World: Sendable {
        let tenant: TenantID
        let group: UserGroupID
        let members: [UserID]
        let loner: UserID

        static func make(_ f: AuthFixture) async throws -> World {
            try await f.catalogue(["docs.read", "docs.write"])
            let tenant = try await f.tenant()
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "READERS", name: "Readers")
            _ = try await f.auth.assignPermission(tenant: tenant, to: .group(group), grant: .permission("docs.read"))
            _ = try await f.auth.createPermSet(tenant: tenant, code: "EDIT", name: "Edit")
            try await f.auth.addPermSetPermissions(tenant: tenant, permSet: "EDIT", codes: ["docs.write"])
            var members: [UserID] = []
            for name in ["m1", "m2"] {
                let member = try await f.member(of: tenant, name)
                try await f.auth.addUserToGroup(tenant: tenant, group: group, user: member)
                members.append(member)
            }
            let loner = try await f.member(of: tenant, "loner")
            return World(tenant: tenant, group: group, members: members, loner: loner)
        }
    }

    struct ParentDeletedCase: Sendable, CustomTestStringConvertible {
        let name: String
        /// Session A: deletes the parent.
        let delete: @Sendable (AuthClient, World) async throws -> Void
        /// Session B: writes under it.
        let write: @Sendable (AuthClient, World) async throws -> Void
        /// What B should get once A's delete is committed.
        let expected: PermissionsError.Code
        var testDescription: String { name }

        static let all: [ParentDeletedCase] = [
            ParentDeletedCase(name: "assign to a group being deleted",
                              delete: { try await $0.deleteUserGroup(tenant: $1.tenant, group: $1.group) },
                              write: { _ = try await $0.assignPermission(tenant: $1.tenant, to: .group($1.group), grant: .permSet("EDIT")) },
                              expected: .unknownUserGroup),
            ParentDeletedCase(name: "add a member to a group being deleted",
                              delete: { try await $0.deleteUserGroup(tenant: $1.tenant, group: $1.group) },
                              write: { try await $0.addUserToGroup(tenant: $1.tenant, group: $1.group, user: $1.loner) },
                              expected: .unknownUserGroup),
            ParentDeletedCase(name: "assign a set being deleted",
                              delete: { try await $0.deletePermSet(tenant: $1.tenant, code: "EDIT") },
                              write: { _ = try await $0.assignPermission(tenant: $1.tenant, to: .user($1.loner), grant: .permSet("EDIT")) },
                              expected: .unknownPermSet),
            ParentDeletedCase(name: "assign to a member being removed (hard)",
                              delete: { try await $0.removeUserFromTenant($1.tenant, user: $1.loner, hard: true) },
                              write: { _ = try await $0.assignPermission(tenant: $1.tenant, to: .user($1.loner), grant: .permSet("EDIT")) },
                              expected: .notTenantMember),
            ParentDeletedCase(name: "create a group in a tenant being deleted",
                              delete: { try await $0.deleteTenant($1.tenant) },
                              write: { _ = try await $0.createUserGroup(tenant: $1.tenant, code: "LATE", name: "Late") },
                              expected: .unknownTenant),
        ]
    }

    /// The writer waits for the deleter's tenant lock and then checks on a fresh snapshot; a
    /// foreign key check that still fails (a parent deleted by direct SQL, or a global parent)
    /// is turned into the documented QN00x by re-running the checks.
    @Test("a write under a parent another session deletes fails with our error, and leaves no stale grant",
          arguments: ParentDeletedCase.all)
    func writeUnderDeletedParent(_ testCase: ParentDeletedCase) async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            let race = try await Reliability.race(f, first: { try await testCase.delete($0, world) },
                                                  second: { try await testCase.write($0, world) })
            #expect(race.first.succeeded, "\(race.first)")
            #expect(race.secondWasBlocked)
            #expect(!race.second.succeeded, "the write under a deleted parent must fail")
            #expect(race.second.failed(with: testCase.expected), "expected \(testCase.expected), got \(race.second)")
            // Nothing granted survives the deletion.
            if try await f.sql("SELECT EXISTS (SELECT FROM auth.tenant WHERE tenant_id = $1)", [world.tenant]).scalar(Bool.self) {
                for user in world.members + [world.loner] {
                    #expect(try await !Self.has(f, world.tenant, user, "docs.write"))
                }
            }
            try await Self.expectAccessConsistent(f)
        }
    }

    /// Parents that no tenant lock protects: a catalogue code (global) and a user deleted by
    /// direct SQL. The writer's foreign key check waits for the deleter and fails; the
    /// function re-runs its checks on a fresh snapshot and raises the documented error.
    struct GlobalParentCase: Sendable, CustomTestStringConvertible {
        let name: String
        let delete: @Sendable (Session, World, UserID) async throws -> Void
        let write: @Sendable (AuthClient, World, UserID) async throws -> Void
        let expected: PermissionsError.Code
        var testDescription: String { name }

        static let all: [GlobalParentCase] = [
            GlobalParentCase(name: "assign a code being deleted",
                             delete: { session, _, _ in try await session.auth.deletePermission(code: "docs.share") },
                             write: { auth, world, _ in
                                 _ = try await auth.assignPermission(tenant: world.tenant, to: .user(world.loner), grant: .permission("docs.share"))
                             },
                             expected: .unknownPermission),
            GlobalParentCase(name: "add a code being deleted to a set",
                             delete: { session, _, _ in try await session.auth.deletePermission(code: "docs.share") },
                             write: { auth, world, _ in
                                 try await auth.addPermSetPermissions(tenant: world.tenant, permSet: "EDIT", codes: ["docs.share"])
                             },
                             expected: .unknownPermission),
            GlobalParentCase(name: "add a user deleted by direct SQL to a tenant",
                             delete: { session, _, user in try await session.sql("DELETE FROM auth.user_info WHERE user_id = $1", [user]) },
                             write: { try await $0.addUserToTenant($1.tenant, user: $2) },
                             expected: .unknownUser),
            GlobalParentCase(name: "make a user deleted by direct SQL a tenant owner",
                             delete: { session, _, user in try await session.sql("DELETE FROM auth.user_info WHERE user_id = $1", [user]) },
                             write: { try await $0.assignTenantOwner($1.tenant, user: $2) },
                             expected: .unknownUser),
        ]
    }

    @Test("a write referring to a code or user another session deletes fails with our error, not a raw 23503",
          arguments: GlobalParentCase.all)
    func writeUnderDeletedGlobalParent(_ testCase: GlobalParentCase) async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            try await f.catalogue(["docs.share"])
            let outsider = try await f.user("outsider")  // in no tenant
            let a = try await Session.open(f)
            let b = try await Session.open(f)
            defer { Task { await a.close(); await b.close() } }
            try await a.sql("BEGIN")
            try await testCase.delete(a, world, outsider)
            let done = DoneFlag()
            let writer = Task { () -> Outcome in
                defer { done.set() }
                return await Outcome.of { try await testCase.write(b.auth, world, outsider) }
            }
            #expect(try await Reliability.waitUntilBlocked(f.connection, waiter: b.pid, holder: a.pid, orDone: done))
            try await a.sql("COMMIT")
            let outcome = await writer.value
            #expect(outcome.failed(with: testCase.expected), "expected \(testCase.expected), got \(outcome)")
            try await Self.expectAccessConsistent(f)
        }
    }

    @Test("a group deleted while another session assigns to it: both succeed, members keep nothing")
    func deleteGroupAfterAssignment() async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            let race = try await Reliability.race(
                f,
                first: { _ = try await $0.assignPermission(tenant: world.tenant, to: .group(world.group), grant: .permSet("EDIT")) },
                second: { try await $0.deleteUserGroup(tenant: world.tenant, group: world.group) })
            #expect(race.first.succeeded && race.second.succeeded, "\(race.first) / \(race.second)")
            #expect(race.secondWasBlocked)
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.permission_assignment WHERE user_group_id = $1",
                                         [world.group]) == 0)
            for member in world.members {
                #expect(try await !Self.has(f, world.tenant, member, "docs.read"))
                #expect(try await !Self.has(f, world.tenant, member, "docs.write"))
            }
            try await Self.expectAccessConsistent(f)
        }
    }

    // MARK: Deactivating a group under concurrent changes

    enum GroupChange: String, Sendable, CaseIterable, CustomTestStringConvertible {
        case assignToGroup, addMember
        var testDescription: String { rawValue }
    }

    @Test("a group deactivated while another session assigns to it or adds a member, in both orders: nothing is granted until reactivated",
          arguments: GroupChange.allCases, [false, true])
    func deactivateGroupConcurrently(_ change: GroupChange, deactivateFirst: Bool) async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            let write: @Sendable (AuthClient) async throws -> Void = { auth in
                switch change {
                case .assignToGroup:
                    _ = try await auth.assignPermission(tenant: world.tenant, to: .group(world.group), grant: .permSet("EDIT"))
                case .addMember:
                    try await auth.addUserToGroup(tenant: world.tenant, group: world.group, user: world.loner)
                }
            }
            let deactivate: @Sendable (AuthClient) async throws -> Void = {
                try await $0.deactivateUserGroup(tenant: world.tenant, group: world.group)
            }
            let race = try await Reliability.race(f, first: deactivateFirst ? deactivate : write,
                                                  second: deactivateFirst ? write : deactivate)
            #expect(race.first.succeeded && race.second.succeeded, "\(race.first) / \(race.second)")
            #expect(race.secondWasBlocked, "the tenant lock should serialize the two sessions")
            let reached = world.members + (change == .addMember ? [world.loner] : [])
            for user in reached {
                #expect(try await !Self.has(f, world.tenant, user, "docs.read"))
                #expect(try await !Self.has(f, world.tenant, user, "docs.write"))
            }
            try await Self.expectAccessConsistent(f)

            // Both changes landed: reactivating grants them.
            try await f.auth.activateUserGroup(tenant: world.tenant, group: world.group)
            for user in reached {
                #expect(try await Self.has(f, world.tenant, user, "docs.read"))
                #expect(try await Self.has(f, world.tenant, user, "docs.write") == (change == .assignToGroup))
            }
            try await Self.expectAccessConsistent(f)
        }
    }

    // MARK: Concurrent grants to one user

    enum GrantPair: String, Sendable, CaseIterable, CustomTestStringConvertible {
        /// Two different sets assigned directly to the user.
        case twoSetsToUser
        /// One set to the user, another to a group the user is in.
        case setToUserAndSetToGroup
        /// A code added to a set while the set is assigned to the user, both orders.
        case addCodeThenAssignSet, assignSetThenAddCode
        var testDescription: String { rawValue }
    }

    @Test("two sessions granting different things to one user in one tenant: both are effective", arguments: GrantPair.allCases)
    func concurrentGrants(_ pair: GrantPair) async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["a.read", "b.read", "c.read"])
            let tenant = try await f.tenant()
            let user = try await f.member(of: tenant)
            let group = try await f.auth.createUserGroup(tenant: tenant, code: "G", name: "Group")
            try await f.auth.addUserToGroup(tenant: tenant, group: group, user: user)
            for (set, code) in [("SA", "a.read"), ("SB", "b.read")] {
                _ = try await f.auth.createPermSet(tenant: tenant, code: set, name: set)
                try await f.auth.addPermSetPermissions(tenant: tenant, permSet: set, codes: [code])
            }
            let assignA: @Sendable (AuthClient) async throws -> Void = {
                _ = try await $0.assignPermission(tenant: tenant, to: .user(user), grant: .permSet("SA"))
            }
            let first: @Sendable (AuthClient) async throws -> Void
            let second: @Sendable (AuthClient) async throws -> Void
            var expected = ["a.read", "b.read"]
            switch pair {
            case .twoSetsToUser:
                first = assignA
                second = { _ = try await $0.assignPermission(tenant: tenant, to: .user(user), grant: .permSet("SB")) }
            case .setToUserAndSetToGroup:
                first = assignA
                second = { _ = try await $0.assignPermission(tenant: tenant, to: .group(group), grant: .permSet("SB")) }
            case .addCodeThenAssignSet, .assignSetThenAddCode:
                let addCode: @Sendable (AuthClient) async throws -> Void = {
                    try await $0.addPermSetPermissions(tenant: tenant, permSet: "SA", codes: ["c.read"])
                }
                (first, second) = pair == .addCodeThenAssignSet ? (addCode, assignA) : (assignA, addCode)
                expected = ["a.read", "c.read"]
            }
            let race = try await Reliability.race(f, first: first, second: second)
            #expect(race.first.succeeded && race.second.succeeded, "\(race.first) / \(race.second)")
            #expect(race.secondWasBlocked, "the tenant lock should serialize the two sessions")
            for code in expected {
                #expect(try await Self.has(f, tenant, user, code), "\(code)")
            }
            try await Self.expectAccessConsistent(f)
        }
    }

    @Test("a user deactivated while another session adds them to a tenant, both orders: no access anywhere",
          arguments: [false, true])
    func deactivateUserWhileJoining(_ deactivateFirst: Bool) async throws {
        try await AuthFixture.run { f in
            let tenant = try await f.tenant()
            let user = try await f.user()
            let join: @Sendable (AuthClient) async throws -> Void = { try await $0.addUserToTenant(tenant, user: user) }
            let deactivate: @Sendable (AuthClient) async throws -> Void = { try await $0.deactivateUser(user) }
            let race = try await Reliability.race(f, first: deactivateFirst ? deactivate : join,
                                                  second: deactivateFirst ? join : deactivate)
            #expect(race.first.succeeded && race.second.succeeded, "\(race.first) / \(race.second)")
            #expect(race.secondWasBlocked)
            #expect(try await !f.auth.checkTenantAccess(tenant: tenant, user: user))
            try await Self.expectAccessConsistent(f)
            try await f.auth.activateUser(user)
            #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: user))
        }
    }

    // MARK: Deadlock

    /// remove_user_from_tenant(_hard := true) used to delete the membership, and with it (by
    /// cascade) the member's effective_access row, before it took the tenant lock; a
    /// transaction holding the lock that then refreshed that member deadlocked with it
    /// (40P01). It now takes the lock first (and so does a BEFORE DELETE trigger).
    @Test("a hard removal while another transaction makes two changes in the tenant: both succeed, no deadlock")
    func hardRemovalDoesNotDeadlock() async throws {
        try await AuthFixture.run { f in
            let world = try await World.make(f)
            let a = try await Session.open(f)
            let b = try await Session.open(f)
            defer { Task { await a.close(); await b.close() } }
            let removed = world.members[0]

            // A: a first change in the tenant; it holds the tenant lock until it commits.
            try await a.sql("BEGIN")
            _ = try await a.auth.assignPermission(tenant: world.tenant, to: .user(world.loner), grant: .permSet("EDIT"))
            // B: removes a member of READERS for good, and waits for A.
            let done = DoneFlag()
            let removal = Task { () -> Outcome in
                defer { done.set() }
                return await Outcome.of { try await b.auth.removeUserFromTenant(world.tenant, user: removed, hard: true) }
            }
            #expect(try await Reliability.waitUntilBlocked(f.connection, waiter: b.pid, holder: a.pid, orDone: done))
            // A: a second change that reaches the member being removed.
            let second = await Outcome.of {
                _ = try await a.auth.assignPermission(tenant: world.tenant, to: .group(world.group), grant: .permSet("EDIT"))
            }
            let commit = await Outcome.of { try await a.sql(second.succeeded ? "COMMIT" : "ROLLBACK") }
            let removalOutcome = await removal.value
            #expect(commit.succeeded, "\(commit)")
            #expect(second.succeeded && removalOutcome.succeeded, "\(second) / \(removalOutcome)")
            #expect(try await !f.auth.checkTenantAccess(tenant: world.tenant, user: removed) || !removalOutcome.succeeded)
            try await Self.expectAccessConsistent(f)
        }
    }

    /// auth.activate_user and auth.deactivate_user used to list the user's tenants and stamp
    /// them before stamping the user. A membership committed in between (here by a
    /// transaction that held the user's stamp, so the call waited right there) was found
    /// again by the trigger on auth.user_info, which then stamped its tenant after the user
    /// and after the other tenant. Another (de)activation of the user, which had meanwhile
    /// stamped that tenant (its stamps are sorted) and was waiting for the other one,
    /// deadlocked with it (40P01, first seen in the stress test below). The user is now
    /// stamped first, and the tenants listed once it is held.
    /// Interleaving, tenants `low` < `high` by key, the user a member of `high` only:
    /// 1. `joiner` begins and adds the user to `low` (stamps; uncommitted);
    /// 2. `editor` begins and updates the user's display name (holds the user's row);
    /// 3. A (de)activates the user and waits for `joiner`;
    /// 4. `joiner` commits; A goes on and waits for `editor` at its UPDATE of the user;
    /// 5. D (de)activates the user too, and waits for A;
    /// 6. `editor` commits: A's trigger stamps the tenants of the user, and both finish.
    @Test("a (de)activation that waited for a new membership of its user, while a second one starts: both succeed, no deadlock",
          arguments: [true, false])
    func userActivationAfterNewMembershipDoesNotDeadlock(_ activate: Bool) async throws {
        try await AuthFixture.run { f in
            var tenants = [try await f.tenant("One"), try await f.tenant("Two")]
            if try await f.sql("SELECT $1::uuid > $2::uuid", [tenants[0], tenants[1]]).scalar(Bool.self) { tenants.reverse() }
            let (low, high) = (tenants[0], tenants[1])
            let user = try await f.member(of: high)
            if activate { try await f.auth.deactivateUser(user) }
            let change: @Sendable (AuthClient) async throws -> Void = {
                if activate { try await $0.activateUser(user) } else { try await $0.deactivateUser(user) }
            }

            let joiner = try await Session.open(f)
            let editor = try await Session.open(f)
            let a = try await Session.open(f)
            let d = try await Session.open(f)
            defer { Task { for session in [joiner, editor, a, d] { await session.close() } } }

            try await joiner.sql("BEGIN")
            try await joiner.auth.addUserToTenant(low, user: user)
            try await editor.sql("BEGIN")
            try await editor.auth.updateUser(user, displayName: "Edited")

            let aDone = DoneFlag()
            let first = Task { () -> Outcome in
                defer { aDone.set() }
                return await Outcome.of { try await change(a.auth) }
            }
            #expect(try await Reliability.waitUntilBlocked(f.connection, waiter: a.pid, holder: joiner.pid, orDone: aDone))
            try await joiner.sql("COMMIT")
            #expect(try await Reliability.waitUntilBlocked(f.connection, waiter: a.pid, holder: editor.pid, orDone: aDone))

            let dDone = DoneFlag()
            let second = Task { () -> Outcome in
                defer { dDone.set() }
                return await Outcome.of { try await change(d.auth) }
            }
            #expect(try await Reliability.waitUntilBlocked(f.connection, waiter: d.pid, holder: a.pid, orDone: dDone))
            try await editor.sql("COMMIT")

            let (firstOutcome, secondOutcome) = (await first.value, await second.value)
            #expect(firstOutcome.succeeded, "\(firstOutcome)")
            #expect(secondOutcome.succeeded, "\(secondOutcome)")
            for tenant in [low, high] {
                #expect(try await f.auth.checkTenantAccess(tenant: tenant, user: user) == activate)
            }
            try await Self.expectAccessConsistent(f)
        }
    }

    /// The same mistake in auth.delete_permission: it listed the tenants using the code,
    /// stamped them, and only then locked the code's rows, which is what stops new uses. A
    /// use committed in between, in another tenant, had that tenant stamped by the cascade
    /// of the forced delete, after the other tenant; a (de)activation of a member of both
    /// tenants holding that stamp (sorted first) and waiting for the other deadlocked with
    /// it. It now lists the tenants again under the lock, and when one is missing gives
    /// its stamps and locks back and takes them again in order.
    /// Interleaving, tenants `low` < `high` by key, the code used in `high` only:
    /// 1. `holder` begins and changes access in `high` (its stamp);
    /// 2. D deletes the code with `_force`, and waits for `holder`;
    /// 3. the code is assigned in `low` (committed);
    /// 4. `pauser` begins and locks the code's assignment in `high` (FOR SHARE, raw SQL);
    /// 5. `holder` commits: D goes on, and waits for `pauser` in its cascade;
    /// 6. X deactivates a member of both tenants: it stamps `low`, and waits for D;
    /// 7. `pauser` commits; D's cascade stamps the tenants of the deleted uses.
    @Test("a forced delete of a code that another session starts using in a second tenant: no deadlock")
    func forcedPermissionDeleteDoesNotDeadlock() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["docs.read", "other"])
            var tenants = [try await f.tenant("One"), try await f.tenant("Two")]
            if try await f.sql("SELECT $1::uuid > $2::uuid", [tenants[0], tenants[1]]).scalar(Bool.self) { tenants.reverse() }
            let (low, high) = (tenants[0], tenants[1])
            let reader = try await f.member(of: high, "reader")
            try await f.auth.addUserToTenant(low, user: reader)
            let both = try await f.member(of: high, "both")
            try await f.auth.addUserToTenant(low, user: both)
            let other = try await f.member(of: high, "other")
            _ = try await f.auth.assignPermission(tenant: high, to: .user(reader), grant: .permission("docs.read"))

            let holder = try await Session.open(f)
            let pauser = try await Session.open(f)
            let d = try await Session.open(f)
            let x = try await Session.open(f)
            defer { Task { for session in [holder, pauser, d, x] { await session.close() } } }

            try await holder.sql("BEGIN")
            _ = try await holder.auth.assignPermission(tenant: high, to: .user(other), grant: .permission("other"))
            let dDone = DoneFlag()
            let delete = Task { () -> Outcome in
                defer { dDone.set() }
                return await Outcome.of { try await d.auth.deletePermission(code: "docs.read", force: true) }
            }
            #expect(try await Reliability.waitUntilBlocked(f.connection, waiter: d.pid, holder: holder.pid, orDone: dDone))
            _ = try await f.auth.assignPermission(tenant: low, to: .user(reader), grant: .permission("docs.read"))
            try await pauser.sql("BEGIN")
            try await pauser.sql("""
                SELECT FROM auth.permission_assignment a JOIN auth.permission p USING (permission_id)
                 WHERE a.tenant_id = $1 AND p.code = 'docs.read' FOR SHARE OF a
                """, [high])
            try await holder.sql("COMMIT")
            #expect(try await Reliability.waitUntilBlocked(f.connection, waiter: d.pid, holder: pauser.pid, orDone: dDone))

            let xDone = DoneFlag()
            let deactivate = Task { () -> Outcome in
                defer { xDone.set() }
                return await Outcome.of { try await x.auth.deactivateUser(both) }
            }
            #expect(try await Reliability.waitUntilBlocked(f.connection, waiter: x.pid, holder: d.pid, orDone: xDone))
            try await pauser.sql("COMMIT")

            let (deleteOutcome, deactivateOutcome) = (await delete.value, await deactivate.value)
            #expect(deleteOutcome.succeeded, "\(deleteOutcome)")
            #expect(deactivateOutcome.succeeded, "\(deactivateOutcome)")
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.permission WHERE code::text = 'docs.read'") == 0)
            #expect(try await Self.count(f, "SELECT count(*) FROM auth.permission_assignment") == 1)
            try await Self.expectAccessConsistent(f)
        }
    }

    // MARK: Stress

    /// A random change in one of the tenants; returns nothing, throws what the function threw.
    struct StressWorld: Sendable {
        let tenants: [TenantID]
        let users: [UserID]
        let groups: [TenantID: [UserGroupID]]
        let sets = ["S1", "S2", "S3"]
        let codes = ["docs", "docs.read", "docs.write", "billing.view", "billing.pay", "admin.users.create"]

        func randomChange(_ auth: AuthClient, _ rng: inout SplitMix64) async throws {
            let tenant = tenants.randomElement(using: &rng)!
            let user = users.randomElement(using: &rng)!
            let group = groups[tenant]!.randomElement(using: &rng)!
            let grantee: Grantee = Bool.random(using: &rng) ? .user(user) : .group(group)
            let grant: Grant = Bool.random(using: &rng) ? .permSet(sets.randomElement(using: &rng)!)
                                                         : .permission(codes.randomElement(using: &rng)!)
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<20: _ = try await auth.assignPermission(tenant: tenant, to: grantee, grant: grant)
            case 20..<35: try await auth.unassignPermission(tenant: tenant, from: grantee, grant: grant)
            case 35..<50: try await auth.addUserToGroup(tenant: tenant, group: group, user: user)
            case 50..<60: try await auth.removeUserFromGroup(tenant: tenant, group: group, user: user)
            case 60..<67:
                try await auth.addPermSetPermissions(tenant: tenant, permSet: sets.randomElement(using: &rng)!,
                                                     codes: [codes.randomElement(using: &rng)!])
            case 67..<72:
                try await auth.removePermSetPermissions(tenant: tenant, permSet: sets.randomElement(using: &rng)!,
                                                        codes: [codes.randomElement(using: &rng)!])
            case 72..<76: try await auth.deactivateUserGroup(tenant: tenant, group: group)
            case 76..<82: try await auth.activateUserGroup(tenant: tenant, group: group)
            case 82..<86: try await auth.removeUserFromTenant(tenant, user: user, hard: Bool.random(using: &rng))
            case 86..<92: try await auth.addUserToTenant(tenant, user: user)
            case 92..<94: try await auth.deactivateUser(user)
            case 94..<97: try await auth.activateUser(user)
            case 97: try await auth.assignTenantOwner(tenant, user: user)
            case 98: try await auth.deactivateTenant(tenant)
            default: try await auth.activateTenant(tenant)
            }
        }
    }

    @Test("8 sessions making random changes in the same tenants for a few seconds: the cache is never stale")
    func stress() async throws {
        try await AuthFixture.run { f in
            let world = try await Self.stressWorld(f)
            let sessions = 8
            let duration: Duration = .seconds(4)
            // PGPERM_STRESS_SEED=<seed> replays a run's operations (not its timing, which the
            // machine decides).
            let seed = ProcessInfo.processInfo.environment["PGPERM_STRESS_SEED"].flatMap { UInt64($0) }
                ?? UInt64.random(in: 0...UInt64.max)
            let stop = DoneFlag()

            let results = try await withThrowingTaskGroup(of: (ops: Int, unexpected: [String]).self) { group in
                for index in 0..<sessions {
                    let session = try await Session.open(f)
                    group.addTask {
                        defer { Task { await session.close() } }
                        var rng = SplitMix64(seed: seed &+ UInt64(index))
                        var ops = 0
                        var unexpected: [String] = []
                        while !stop.isSet {
                            let outcome = await Outcome.of { try await world.randomChange(session.auth, &rng) }
                            ops += 1
                            // Our own errors (already a member, unknown assignment, ...) are expected.
                            if !outcome.succeeded && !outcome.isOurError { unexpected.append(outcome.description) }
                        }
                        return (ops, unexpected)
                    }
                }
                // The observer: every snapshot must be consistent, since the cache is written
                // in the same transaction as each change.
                let observer = try await Session.open(f)
                defer { Task { await observer.close() } }
                let clock = ContinuousClock()
                let end = clock.now + duration
                var checks = 0
                var staleSnapshots: [String] = []
                while clock.now < end {
                    let stale = try await Reliability.staleAccess(observer.connection)
                    checks += 1
                    if !stale.isEmpty { staleSnapshots.append(stale.joined(separator: "\n")) }
                    try await Task.sleep(for: .milliseconds(50))
                }
                stop.set()
                var all: [(ops: Int, unexpected: [String])] = []
                for try await result in group { all.append(result) }
                #expect(checks > 0)
                #expect(staleSnapshots.isEmpty, "seed \(seed): stale snapshots during the run:\n\(staleSnapshots.prefix(3).joined(separator: "\n---\n"))")
                return all
            }
            let ops = results.map(\.ops).reduce(0, +)
            let unexpected = results.flatMap(\.unexpected)
            #expect(ops >= sessions, "seed \(seed): only \(ops) operations ran")
            // No raw error at all: neither a deadlock (40P01) nor a foreign key violation (23503).
            #expect(unexpected.isEmpty, "seed \(seed): \(unexpected.count) of \(ops) calls failed with a raw error:\n\(Set(unexpected.map { String($0.prefix(1000)) }).sorted().prefix(10).joined(separator: "\n"))")
            try await Self.expectAccessConsistent(f)
            // And the checks agree with the cache for every member and code.
            let mismatches = try await Self.checkMismatches(f, world)
            #expect(mismatches.isEmpty, "seed \(seed): has_permission disagrees with the source tables: \(mismatches.prefix(5))")
        }
    }

    static func stressWorld(_ f: AuthFixture) async throws -> StressWorld {
        let codes = ["docs", "docs.read", "docs.write", "billing.view", "billing.pay", "admin.users.create"]
        try await f.catalogue(codes)
        var users: [UserID] = []
        for index in 0..<6 { users.append(try await f.user("u\(index)")) }
        var tenants: [TenantID] = []
        var groups: [TenantID: [UserGroupID]] = [:]
        for index in 0..<2 {
            let tenant = try await f.tenant("T\(index)", owner: users[index])
            tenants.append(tenant)
            for user in users where user != users[index] { try await f.auth.addUserToTenant(tenant, user: user) }
            for (number, set) in ["S1", "S2", "S3"].enumerated() {
                _ = try await f.auth.createPermSet(tenant: tenant, code: set, name: set)
                try await f.auth.addPermSetPermissions(tenant: tenant, permSet: set, codes: [codes[number * 2]])
            }
            var tenantGroups: [UserGroupID] = []
            for code in ["G1", "G2", "G3"] {
                tenantGroups.append(try await f.auth.createUserGroup(tenant: tenant, code: code, name: code))
            }
            groups[tenant] = tenantGroups
        }
        return StressWorld(tenants: tenants, users: users, groups: groups)
    }

    /// (tenant, user, code) where has_permission differs from the rules applied to the source tables.
    static func checkMismatches(_ f: AuthFixture, _ world: StressWorld) async throws -> [String] {
        try await f.sql("""
            WITH live AS (
                SELECT tu.tenant_id, tu.user_id FROM auth.tenant_user tu
                  JOIN auth.tenant t ON t.tenant_id = tu.tenant_id AND t.is_active
                  JOIN auth.user_info u ON u.user_id = tu.user_id AND u.is_active
                 WHERE tu.is_active),
            held AS (
                SELECT a.tenant_id, a.user_id, coalesce(a.permission_id, sp.permission_id) AS permission_id
                  FROM auth.permission_assignment a LEFT JOIN auth.perm_set_permission sp ON sp.perm_set_id = a.perm_set_id
                 WHERE a.user_id IS NOT NULL
                UNION
                SELECT m.tenant_id, m.user_id, coalesce(a.permission_id, sp.permission_id)
                  FROM auth.user_group_member m
                  JOIN auth.user_group g ON g.user_group_id = m.user_group_id AND g.is_active
                  JOIN auth.permission_assignment a ON a.user_group_id = m.user_group_id
                  LEFT JOIN auth.perm_set_permission sp ON sp.perm_set_id = a.perm_set_id)
            SELECT format('%s %s %s', x.tenant_id, x.user_id, p.code)
              FROM (SELECT tenant_id, user_id FROM auth.tenant_user) x
             CROSS JOIN auth.permission p
             WHERE auth.has_permission(x.tenant_id, x.user_id, p.code::text) IS DISTINCT FROM (
                   EXISTS (SELECT FROM live l WHERE l.tenant_id = x.tenant_id AND l.user_id = x.user_id)
                   AND (EXISTS (SELECT FROM auth.owner o WHERE o.tenant_id = x.tenant_id AND o.user_id = x.user_id
                                                           AND o.user_group_id IS NULL)
                        OR EXISTS (SELECT FROM held h JOIN auth.permission hp ON hp.permission_id = h.permission_id
                                    WHERE h.tenant_id = x.tenant_id AND h.user_id = x.user_id
                                      AND p.ancestor_nos @> ARRAY[hp.permission_no])))
            """).map { try $0.decode(String.self, at: 0) }
    }
}
