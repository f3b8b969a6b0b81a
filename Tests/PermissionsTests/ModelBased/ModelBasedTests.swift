import Foundation
import Permissions
import PQ
import Testing

/// Randomized model-based test of the permissions model (issue 5).
///
/// Each run draws a seeded sequence of operations (``OperationGenerator``), applies each one to
/// the database (an `auth` function through ``AuthClient``, or direct DML) and to
/// ``PermissionsModel``, and after every step compares:
///   - the error: the database raises one exactly when the model predicts one, with the same SQLSTATE;
///   - `auth.has_permission` for every (tenant, user, code) triple, in one query;
///   - `auth.has_resource_permission` for every (tenant, user, resource, code) of the run's resources;
/// and every few steps also `auth.filter_resource_ids` for every (tenant, user, code) and
/// resource type (at about 60 µs a call, the costliest comparison), `auth.get_user_permissions`, `auth.check_tenant_access`, the error
/// for a code not in the catalogue, and every row of the tables the model mirrors. A
/// ``PermissionCache`` runs beside it: after each step it waits for a barrier (every change
/// committed before it has reached the cache) and answers every triple too, which must agree
/// with the database.
///
/// Replay a run with `PGPERM_MODEL_SEED=<seed> PGPERM_MODEL_STEPS=<steps> swift test --filter ModelBased`
/// (`PGPERM_MODEL_SEED` takes a comma-separated list).
@Suite("ModelBased: random operations against the model of DESIGN.md §3")
struct ModelBasedTests {
    static let defaultSeeds: [UInt64] = [1, 2, 3, 4]
    static let defaultSteps = 1_000

    static var seeds: [UInt64] {
        guard let text = ProcessInfo.processInfo.environment["PGPERM_MODEL_SEED"] else { return defaultSeeds }
        return text.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
    }

    static var steps: Int {
        ProcessInfo.processInfo.environment["PGPERM_MODEL_STEPS"].flatMap { Int($0) } ?? defaultSteps
    }

    @Test("the database agrees with the model after every step", arguments: seeds)
    func randomOperations(seed: UInt64) async throws {
        try await AuthFixture.run { f in
            var run = try await ModelBasedRun(fixture: f, seed: seed)
            if let failure = try await run.run(steps: Self.steps) {
                Issue.record(Comment(rawValue: failure))
                return
            }
            let stats = run.stats
            // A comparison that never sees a grant, a denial or an error proves nothing.
            #expect(stats.comparedTriples >= Self.steps * 50, "\(stats)")
            #expect(stats.granted > stats.comparedTriples / 50, "\(stats)")
            #expect(stats.denied > stats.comparedTriples / 50, "\(stats)")
            #expect(stats.databaseErrors > Self.steps / 20, "\(stats)")
            #expect(stats.comparedStates > Self.steps / 25, "\(stats)")
            #expect(stats.comparedExplanations > Self.steps / 2, "\(stats)")
            #expect(stats.cacheComparedTriples == stats.comparedTriples, "\(stats)")
            // Every resource check and filter compared, and every way the check decides seen many times.
            #expect(stats.comparedResourceChecks == stats.comparedTriples * OperationGenerator.resourceUniverse.count, "\(stats)")
            #expect(stats.comparedResourceFilters > Self.steps / ModelBasedRun.resourceFiltersEvery * 50, "\(stats)")
            for decision in ["granted there", "inherited there", "tenant-wide", "deny overriding a grant", "deny", "not granted",
                             "owner", "no live access"] {
                #expect(stats.resourceDecisions[decision, default: 0] > Self.steps / 20, "\(decision): \(stats)")
            }
            #expect(stats.cacheHits > stats.cacheComparedTriples / 2, "the cache answered from memory: \(stats)")
            // Steps on an older snapshot both commit and meet 40001.
            #expect(stats.olderSnapshotCommitted > 0 && stats.olderSnapshotSerializationFailures > 0, "\(stats)")
            if Self.steps >= Self.defaultSteps {
                // Every kind of operation succeeded at least once.
                let never = OperationGenerator.kindNames.subtracting(stats.succeededKinds)
                    .subtracting(OperationGenerator.refusedKindNames).sorted()
                #expect(never.isEmpty, "never succeeded with seed \(seed): \(never)")
            }
            print("ModelBased seed \(seed): \(stats)")
            if ProcessInfo.processInfo.environment["PGPERM_MODEL_VERBOSE"] != nil {
                print(stats.errorsByKind.sorted { $0.value > $1.value }.map { "  \($0.key): \($0.value)" }.joined(separator: "\n"))
            }
        }
    }

    @Test("the comparison reports a change the model did not make, with what is needed to replay it")
    func comparisonCanFail() async throws {
        try await AuthFixture.run { f in
            var run = try await ModelBasedRun(fixture: f, seed: 7)
            #expect(try await run.run(steps: 100) == nil)
            // Behind the model's back, make a user who is denied something a live tenant owner.
            let model = run.model
            let denied = model.inOrder(model.tenants.keys).lazy.compactMap { t in
                model.inOrder(model.users.keys).first { u in
                    model.catalogue.contains { !model.hasPermission(tenant: t, user: u, code: $0) }
                }.map { (t, $0) }
            }.first
            guard let (tenant, user) = denied, !model.catalogue.isEmpty else {
                Issue.record("seed 7 denies nothing after 100 steps")
                return
            }
            try await f.sql("UPDATE auth.tenant SET is_active = true WHERE tenant_id = $1", [tenant])
            try await f.sql("UPDATE auth.user_info SET is_active = true WHERE user_id = $1", [user])
            try await f.sql("""
                INSERT INTO auth.tenant_user (tenant_id, user_id) VALUES ($1, $2)
                ON CONFLICT (tenant_id, user_id) DO UPDATE SET is_active = true
                """, [tenant, user])
            try await f.sql("INSERT INTO auth.owner (tenant_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [tenant, user])
            let failure = try await run.compareChecks(step: 101)
            #expect(failure?.contains("seed 7, step 101") == true, "\(failure ?? "no failure")")
            #expect(failure?.contains("db=true model=false") == true, "\(failure ?? "no failure")")
            #expect(failure?.contains("PGPERM_MODEL_SEED=7") == true, "\(failure ?? "no failure")")
            #expect(try await run.compareState(step: 101)?.contains("only in the database: owner") == true)
        }
    }
}

/// What a run compared, to show that the comparison really ran.
struct ModelRunStats: CustomStringConvertible {
    var steps = 0
    var comparedTriples = 0
    /// Live memberships (tenant, user and membership active) summed over the steps.
    var liveMemberships = 0
    var granted = 0
    var denied = 0
    var comparedPairs = 0
    /// Triples the cache answered after the step's barrier, and how many from memory.
    var cacheComparedTriples = 0
    var cacheHits = 0
    var comparedExplanations = 0
    /// (tenant, user, resource, code) checks, with the model's reason for each answer, and
    /// filter_resource_ids calls compared.
    var comparedResourceChecks = 0
    var resourceDecisions: [String: Int] = [:]
    var comparedResourceFilters = 0
    var comparedStates = 0
    var databaseErrors = 0
    /// Steps run on a snapshot older than the previous step, how many of them committed,
    /// and how many failed with 40001 (and ran again).
    var olderSnapshotSteps = 0
    var olderSnapshotCommitted = 0
    var olderSnapshotSerializationFailures = 0
    var succeededKinds: Set<String> = []
    /// How often each kind of operation failed with each SQLSTATE, e.g. "assign QN006".
    var errorsByKind: [String: Int] = [:]

    var description: String {
        let live = String(format: "%.1f", Double(liveMemberships) / Double(max(steps, 1)))
        let checks = "\(comparedTriples) triples (\(granted) granted, \(denied) denied)"
        let others = "\(comparedPairs) permission lists, \(comparedExplanations) explanations, \(comparedStates) table states, \(databaseErrors) expected errors"
        let older = "\(olderSnapshotSteps) on an older snapshot (\(olderSnapshotCommitted) committed, "
            + "\(olderSnapshotSerializationFailures) × 40001)"
        let resources = "\(comparedResourceChecks) resource checks (" + resourceDecisions.sorted { $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "), \(comparedResourceFilters) resource filters"
        return "\(steps) steps, \(older), \(checks), \(resources), \(others), \(succeededKinds.count)/\(OperationGenerator.kindNames.count) kinds succeeded, "
            + "\(live) live memberships on average, \(cacheComparedTriples) triples from the cache (\(cacheHits) hits)"
    }
}

/// One seeded run: the database, the model, the generator and the recent history.
struct ModelBasedRun {
    let f: AuthFixture
    let seed: UInt64
    private(set) var model = PermissionsModel()
    private var generator: OperationGenerator
    /// Descriptions of the recent operations, for failure messages.
    private var history: [String] = []
    /// Ids that were deleted recently: checks on them must deny (the last few of each kind).
    private var retiredTenants: [TenantID] = []
    private var retiredUsers: [UserID] = []
    private(set) var stats = ModelRunStats()
    /// The second session, and whether it holds a snapshot for the next step.
    private let olderSnapshot: Session
    private var olderSnapshotOpen = false
    static let olderSnapshotEvery = 5
    static let resourceFiltersEvery = 5
    /// The cached client compared after every step, and its pool and listener.
    let cache: PermissionCache
    private let cachePool: ConnectionPool
    private let cacheListener: Task<Void, Never>

    init(fixture: AuthFixture, seed: UInt64) async throws {
        f = fixture
        self.seed = seed
        generator = OperationGenerator(seed: seed)
        olderSnapshot = try await Session.open(fixture)
        cachePool = ConnectionPool(.init(conninfo: fixture.database.conninfo, maximumConnections: 2))
        let cache = PermissionCache(pool: cachePool)
        self.cache = cache
        cacheListener = Task { await cache.run() }
        let deadline = ContinuousClock.now + .seconds(10)
        while !cache.statistics.isTrusted && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    }

    /// Runs `steps` operations; returns a failure message at the first disagreement.
    mutating func run(steps: Int) async throws -> String? {
        var failure = try await compareState(step: 0)
        var step = 1
        while failure == nil && step <= steps {
            failure = try await self.step(step)
            step += 1
        }
        await olderSnapshot.close()
        cacheListener.cancel()
        await cacheListener.value
        await cachePool.close()
        return failure
    }

    private mutating func step(_ step: Int) async throws -> String? {
        // Every few steps, a second session takes a REPEATABLE READ snapshot before the step
        // and runs the next step on it, so that step misses the previous one's commit.
        if step % Self.olderSnapshotEvery == Self.olderSnapshotEvery - 1 {
            try await olderSnapshot.sql("BEGIN ISOLATION LEVEL REPEATABLE READ")
            try await olderSnapshot.sql("SELECT count(*) FROM auth.tenant")
            olderSnapshotOpen = true
        }
        let operation = generator.next(model)
        let before = model
        let outcome: Outcome
        if olderSnapshotOpen && step % Self.olderSnapshotEvery == 0 {
            outcome = try await executeOnOlderSnapshot(operation)
        } else {
            outcome = try await Self.execute(operation, on: f.connection)
        }
        let expected = model.apply(operation, createdID: outcome.createdID)
        remember(step, operation, outcome, names: model)
        stats.steps = step

        if outcome.errorCode != expected {
            return failure(step, "the database \(outcome.errorCode.map { "raised \($0): \(outcome.message)" } ?? "succeeded"), "
                           + "the model \(expected.map { "expected \($0)" } ?? "expected success")")
        }
        if let expected {
            stats.databaseErrors += 1
            stats.errorsByKind["\(operation.kind) \(expected)", default: 0] += 1
        } else {
            stats.succeededKinds.insert(operation.kind)
            if case .transaction(let operations) = operation { stats.succeededKinds.formUnion(operations.map(\.kind)) }
        }
        retire(before)

        do {
            if let failure = try await compareChecks(step: step) { return failure }
            // After an error, the whole state must be as it was ("bad input loses nothing").
            if expected != nil || step % 25 == 0, let failure = try await compareState(step: step) { return failure }
            if step % Self.resourceFiltersEvery == 0, let failure = try await compareResourceFilters(step: step) { return failure }
            if step % 10 == 0 {
                if let failure = try await comparePermissionLists(step: step) { return failure }
                if let failure = try await compareExplanations(step: step) { return failure }
                if let failure = try await compareUnknownCode(step: step) { return failure }
            }
        } catch let error as PostgresError where error.kind == .server {
            return failure(step, "a comparison query raised \(error)")
        } catch let error as PermissionsError {
            return failure(step, "a comparison query raised \(error)")
        }
        return nil
    }

    // MARK: - Executing an operation on the database

    struct Outcome {
        var createdID: UUID?
        var errorCode: String?
        var message = ""
    }

    static func execute(_ operation: ModelOperation, on connection: Connection) async throws -> Outcome {
        do {
            return Outcome(createdID: try await Self.perform(operation, on: connection))
        } catch let error as PermissionsError {
            return Outcome(errorCode: error.code.sqlState.rawValue, message: error.message)
        } catch let error as PostgresError where error.kind == .server {
            return Outcome(errorCode: error.code?.rawValue ?? "?????", message: error.message)
        }
    }

    /// Runs the operation in the session whose snapshot predates the previous step. If it
    /// succeeds, it commits and the model takes it like any other step: a stale row it left
    /// would show in the comparisons. If it fails, it rolls back and runs again on a fresh
    /// snapshot, as an application retries a 40001 (a stale snapshot may also fail
    /// differently from the model, e.g. not yet seeing a user the previous step created).
    /// Only calls of auth functions run there: they check what they change and raise when
    /// their snapshot lacks it, while a direct UPDATE or DELETE of a row the previous step
    /// inserted matches nothing on the old snapshot and succeeds having done nothing, which
    /// is REPEATABLE READ as documented, not a disagreement with the model.
    private mutating func executeOnOlderSnapshot(_ operation: ModelOperation) async throws -> Outcome {
        olderSnapshotOpen = false
        var runsThere = !operation.kind.hasPrefix("sql")
        if case .transaction = operation { runsThere = false }  // not nested in the open transaction
        // A revoke answers false, without raising, for a grant its snapshot does not see yet.
        if case .revokeResource = operation { runsThere = false }
        guard runsThere else {
            try await olderSnapshot.sql("ROLLBACK")
            return try await Self.execute(operation, on: f.connection)
        }
        stats.olderSnapshotSteps += 1
        let outcome = try await Self.execute(operation, on: olderSnapshot.connection)
        if outcome.errorCode == nil {
            try await olderSnapshot.sql("COMMIT")
            stats.olderSnapshotCommitted += 1
            return outcome
        }
        try await olderSnapshot.sql("ROLLBACK")
        if outcome.errorCode == "40001" { stats.olderSnapshotSerializationFailures += 1 }
        return try await Self.execute(operation, on: f.connection)
    }

    /// Runs the operation; returns the id a create returned.
    private static func perform(_ operation: ModelOperation, on connection: Connection) async throws -> UUID? {
        let auth = AuthClient(connection)
        switch operation {
        case .createTenant(let code, let owner):
            return try await auth.createTenant(name: "Tenant \(code)", code: code, owner: owner).rawValue
        case .deleteTenant(let t): try await auth.deleteTenant(t)
        case .deactivateTenant(let t): try await auth.deactivateTenant(t)
        case .activateTenant(let t): try await auth.activateTenant(t)
        case .sqlSetTenantActive(let t, let active):
            try await connection.query("UPDATE auth.tenant SET is_active = $2::boolean WHERE tenant_id = $1::uuid", [t, active])

        case .createUser(let username):
            return try await auth.createUser(username: username, email: "\(username)@example.com").rawValue
        case .deactivateUser(let u): try await auth.deactivateUser(u)
        case .activateUser(let u): try await auth.activateUser(u)
        case .sqlSetUserActive(let u, let active):
            try await connection.query("UPDATE auth.user_info SET is_active = $2::boolean WHERE user_id = $1::uuid", [u, active])
        case .sqlDeleteUser(let u):
            try await connection.query("DELETE FROM auth.user_info WHERE user_id = $1::uuid", [u])
        case .deleteUser(let u, let force): try await auth.deleteUser(u, force: force)

        case .addUserToTenant(let t, let u): try await auth.addUserToTenant(t, user: u)
        case .removeUserFromTenant(let t, let u, let hard): try await auth.removeUserFromTenant(t, user: u, hard: hard)
        case .sqlInsertMembership(let t, let u):
            try await connection.query("INSERT INTO auth.tenant_user (tenant_id, user_id) VALUES ($1::uuid, $2::uuid)", [t, u])
        case .sqlSetMembershipActive(let t, let u, let active):
            try await connection.query("UPDATE auth.tenant_user SET is_active = $3::boolean WHERE tenant_id = $1::uuid AND user_id = $2::uuid",
                            [t, u, active])
        case .sqlDeleteMembership(let t, let u):
            try await connection.query("DELETE FROM auth.tenant_user WHERE tenant_id = $1::uuid AND user_id = $2::uuid", [t, u])

        case .assignTenantOwner(let t, let u): try await auth.assignTenantOwner(t, user: u)
        case .transferTenantOwnership(let t, let u): try await auth.transferTenantOwnership(t, to: u)
        case .assignGroupOwner(let t, let g, let u): try await auth.assignGroupOwner(tenant: t, group: g, user: u)
        case .sqlReassignTenantOwner(let t, let u):
            // The reference's transfer by direct DML.
            try await connection.query("UPDATE auth.owner SET user_id = $2::uuid WHERE tenant_id = $1::uuid AND user_group_id IS NULL", [t, u])
        case .sqlPromoteGroupOwner(let g, let u):
            try await connection.query("UPDATE auth.owner SET user_group_id = NULL WHERE user_group_id = $1::uuid AND user_id = $2::uuid", [g, u])
        case .sqlDeleteTenantOwners(let t):
            try await connection.query("DELETE FROM auth.owner WHERE tenant_id = $1::uuid AND user_group_id IS NULL", [t])

        case .createGroup(let t, let code):
            return try await auth.createUserGroup(tenant: t, code: code, name: "Group \(code)").rawValue
        case .deleteGroup(let t, let g): try await auth.deleteUserGroup(tenant: t, group: g)
        case .deactivateGroup(let t, let g): try await auth.deactivateUserGroup(tenant: t, group: g)
        case .activateGroup(let t, let g): try await auth.activateUserGroup(tenant: t, group: g)
        case .sqlSetGroupActive(let g, let active):
            try await connection.query("UPDATE auth.user_group SET is_active = $2::boolean WHERE user_group_id = $1::uuid", [g, active])
        case .sqlDeleteGroup(let g):
            try await connection.query("DELETE FROM auth.user_group WHERE user_group_id = $1::uuid", [g])
        case .sqlMoveGroupToTenant(let g, let t):
            try await connection.query("UPDATE auth.user_group SET tenant_id = $2::uuid WHERE user_group_id = $1::uuid", [g, t])
        case .addUserToGroup(let t, let g, let u): try await auth.addUserToGroup(tenant: t, group: g, user: u)
        case .removeUserFromGroup(let t, let g, let u): try await auth.removeUserFromGroup(tenant: t, group: g, user: u)
        case .sqlInsertGroupMember(let t, let g, let u):
            try await connection.query("INSERT INTO auth.user_group_member (tenant_id, user_group_id, user_id) VALUES ($1::uuid, $2::uuid, $3::uuid)",
                            [t, g, u])
        case .sqlDeleteGroupMember(let g, let u):
            try await connection.query("DELETE FROM auth.user_group_member WHERE user_group_id = $1::uuid AND user_id = $2::uuid", [g, u])
        case .sqlMoveGroupMember(let from, let to, let u):
            try await connection.query("""
                UPDATE auth.user_group_member SET user_group_id = $2::uuid WHERE user_group_id = $1::uuid AND user_id = $3::uuid
                """, [from, to, u])

        case .createPermSet(let t, let code):
            return try await auth.createPermSet(tenant: t, code: code, name: "Set \(code)").rawValue
        case .addToPermSet(let t, let setCode, let codes): try await auth.addPermSetPermissions(tenant: t, permSet: setCode, codes: codes)
        case .removeFromPermSet(let t, let setCode, let codes):
            try await auth.removePermSetPermissions(tenant: t, permSet: setCode, codes: codes)
        case .deletePermSet(let t, let setCode, let force): try await auth.deletePermSet(tenant: t, code: setCode, force: force)
        case .sqlInsertPermSetCode(let s, let code):
            try await connection.query("""
                INSERT INTO auth.perm_set_permission (perm_set_id, permission_id)
                SELECT $1::uuid, p.permission_id FROM auth.permission p WHERE p.code::text = $2::text
                """, [s, code])
        case .sqlEmptyPermSet(let s):
            try await connection.query("DELETE FROM auth.perm_set_permission WHERE perm_set_id = $1::uuid", [s])
        case .sqlDeletePermSet(let s):
            try await connection.query("DELETE FROM auth.perm_set WHERE perm_set_id = $1::uuid", [s])

        case .assign(let t, let grantee, let grant): try await auth.assignPermission(tenant: t, to: grantee, grant: grant)
        case .unassign(let t, let grantee, let grant): try await auth.unassignPermission(tenant: t, from: grantee, grant: grant)
        case .sqlInsertAssignment(let t, let grantee, let grant):
            var user: UserID?, group: UserGroupID?, permSet: PermSetID?, code: String?
            switch grantee {
            case .user(let u): user = u
            case .group(let g): group = g
            }
            switch grant {
            case .permSet(let s): permSet = s
            case .permission(let c): code = c
            }
            try await connection.query("""
                INSERT INTO auth.permission_assignment (tenant_id, user_id, user_group_id, perm_set_id, permission_id)
                VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid,
                        (SELECT p.permission_id FROM auth.permission p WHERE p.code::text = $5::text))
                """, [t, user, group, permSet, code])
        case .sqlDeleteUserAssignments(let t, let u):
            try await connection.query("DELETE FROM auth.permission_assignment WHERE tenant_id = $1::uuid AND user_id = $2::uuid", [t, u])
        case .sqlMoveGroupAssignments(let from, let to):
            try await connection.query("UPDATE auth.permission_assignment SET user_group_id = $2::uuid WHERE user_group_id = $1::uuid", [from, to])

        case .grantResource(let t, let resource, let code, let grantee):
            try await auth.grantResourcePermission(tenant: t, on: resource, code: code, to: grantee)
        case .denyResource(let t, let resource, let code, let grantee):
            try await auth.denyResourcePermission(tenant: t, on: resource, code: code, to: grantee)
        case .revokeResource(let t, let resource, let code, let grantee):
            try await auth.revokeResourcePermission(tenant: t, on: resource, code: code, from: grantee)

        case .createPermission(let code): return try await auth.createPermission(code: code, name: "Code \(code)").rawValue
        case .deletePermission(let code, let force): try await auth.deletePermission(code: code, force: force)
        case .sqlSetTenantGroupsActive(let t, let active):
            try await connection.query("UPDATE auth.user_group SET is_active = $2::boolean WHERE tenant_id = $1::uuid", [t, active])
        case .sqlFlipMemberships(let t):
            try await connection.query("UPDATE auth.tenant_user SET is_active = NOT is_active WHERE tenant_id = $1::uuid", [t])
        case .sqlFlipAllTenants:
            try await connection.query("UPDATE auth.tenant SET is_active = NOT is_active")
        case .sqlRemoveUserFromAllGroups(let u):
            try await connection.query("DELETE FROM auth.user_group_member WHERE user_id = $1::uuid", [u])
        case .sqlMoveUserAssignments(let t, let from, let to):
            try await connection.query("""
                UPDATE auth.permission_assignment SET user_id = $3::uuid WHERE tenant_id = $1::uuid AND user_id = $2::uuid
                """, [t, from, to])
        case .transaction(let operations):
            try await connection.withTransaction { connection in
                for operation in operations { _ = try await Self.perform(operation, on: connection) }
            }
        case .sqlDeletePermissionRow(let code):
            try await connection.query("DELETE FROM auth.permission WHERE code::text = $1::text", [code])
        case .sqlDeletePermissionSubtree(let code):
            try await connection.query("""
                DELETE FROM auth.permission WHERE code::text = $1::text OR starts_with(code::text, $1::text || '.')
                """, [code])
        }
        return nil
    }

    // MARK: - Comparisons

    /// Every (tenant, user, code) check, in one query: one character per triple.
    static let checkQuery = """
        SELECT coalesce(string_agg(CASE WHEN auth.has_permission(t.id, u.id, c.code) THEN '1' ELSE '0' END, ''
                                   ORDER BY t.n, u.n, c.n), '')
          FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n),
               unnest($2::uuid[]) WITH ORDINALITY AS u(id, n),
               unnest($3::text[]) WITH ORDINALITY AS c(code, n)
        """

    /// The tenants and users to check: the current ones and the recently deleted ones.
    private var checkedTenants: [TenantID] { model.inOrder(model.tenants.keys) + retiredTenants }
    private var checkedUsers: [UserID] { model.inOrder(model.users.keys) + retiredUsers }

    mutating func compareChecks(step: Int) async throws -> String? {
        let tenants = checkedTenants, users = checkedUsers, codes = model.catalogue.sorted()
        let bits = Array(try await f.connection.query(Self.checkQuery, [tenants, users, codes], prepared: true).scalar(String.self))
        guard bits.count == tenants.count * users.count * codes.count else {
            return failure(step, "the check query returned \(bits.count) results for "
                           + "\(tenants.count) × \(users.count) × \(codes.count) triples")
        }
        var differences: [String] = []
        var index = 0
        for t in tenants {
            for u in users {
                for code in codes {
                    let database = bits[index] == "1"
                    let expected = model.hasPermission(tenant: t, user: u, code: code)
                    if database != expected {
                        differences.append("has_permission(\(model.name(t.rawValue)), \(model.name(u.rawValue)), '\(code)'): "
                                           + "db=\(database) model=\(expected)")
                    }
                    if database { stats.granted += 1 } else { stats.denied += 1 }
                    index += 1
                }
            }
        }
        stats.comparedTriples += index
        stats.liveMemberships += tenants.reduce(0) { n, t in n + users.count { model.hasLiveMembership(tenant: t, user: $0) } }
        if !differences.isEmpty { return failure(step, "\(differences.count) checks differ", differences) }
        if let failure = try await compareResourceChecks(step: step, tenants: tenants, users: users, codes: codes) { return failure }
        return try await compareCache(step: step, tenants: tenants, users: users, codes: codes, database: bits)
    }

    /// Every (tenant, user, resource, code) check, in one query: one character each.
    static let resourceCheckQuery = """
        SELECT coalesce(string_agg(CASE WHEN auth.has_resource_permission(t.id, u.id, r.type, r.id, c.code) THEN '1' ELSE '0' END, ''
                                   ORDER BY t.n, u.n, r.n, c.n), '')
          FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n),
               unnest($2::uuid[]) WITH ORDINALITY AS u(id, n),
               unnest($3::text[], $4::text[]) WITH ORDINALITY AS r(type, id, n),
               unnest($5::text[]) WITH ORDINALITY AS c(code, n)
        """

    /// filter_resource_ids for every (tenant, user, code) and type: the ids it keeps, comma-separated, one row each.
    static let resourceFilterQuery = """
        SELECT array_to_string(ARRAY(SELECT auth.filter_resource_ids(t.id, u.id, r.type, string_to_array(r.ids, ','), c.code)), ',')
          FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n),
               unnest($2::uuid[]) WITH ORDINALITY AS u(id, n),
               unnest($3::text[]) WITH ORDINALITY AS c(code, n),
               unnest($4::text[], $5::text[]) WITH ORDINALITY AS r(type, ids, n)
         ORDER BY t.n, u.n, c.n, r.n
        """

    private mutating func compareResourceChecks(step: Int, tenants: [TenantID], users: [UserID], codes: [String]) async throws -> String? {
        let resources = OperationGenerator.resourceUniverse
        let bits = Array(try await f.connection.query(Self.resourceCheckQuery,
                                                      [tenants, users, resources.map(\.type), resources.map(\.id), codes],
                                                      prepared: true).scalar(String.self))
        guard bits.count == tenants.count * users.count * resources.count * codes.count else {
            return failure(step, "the resource check query returned \(bits.count) results for "
                           + "\(tenants.count) × \(users.count) × \(resources.count) × \(codes.count) checks")
        }
        var differences: [String] = []
        var index = 0
        for t in tenants {
            for u in users {
                for resource in resources {
                    for code in codes {
                        let database = bits[index] == "1"
                        let decision = model.resourceDecision(tenant: t, user: u, resource: resource, code: code)
                        if database != decision.granted {
                            differences.append("has_resource_permission(\(model.name(t.rawValue)), \(model.name(u.rawValue)), "
                                               + "\(resource.type)/\(resource.id), '\(code)'): db=\(database) model=\(decision)")
                        }
                        stats.resourceDecisions[Self.statName(decision), default: 0] += 1
                        index += 1
                    }
                }
            }
        }
        stats.comparedResourceChecks += index
        return differences.isEmpty ? nil : failure(step, "\(differences.count) resource checks differ", differences)
    }

    private mutating func compareResourceFilters(step: Int) async throws -> String? {
        let tenants = checkedTenants, users = checkedUsers, codes = model.catalogue.sorted()
        let filtered = OperationGenerator.filteredIDs
        let rows = try await f.connection.query(Self.resourceFilterQuery,
                                                [tenants, users, codes, filtered.map(\.type), filtered.map { $0.ids.joined(separator: ",") }],
                                                prepared: true)
        let answers = try rows.map { try $0.decode(String.self, at: 0) }
        guard answers.count == tenants.count * users.count * codes.count * filtered.count else {
            return failure(step, "the resource filter query returned \(answers.count) rows")
        }
        var differences: [String] = []
        var index = 0
        for t in tenants {
            for u in users {
                for code in codes {
                    for (type, ids) in filtered {
                        let database = answers[index].split(separator: ",").map(String.init)
                        let expected = model.filterResourceIDs(tenant: t, user: u, type: type, ids: ids, code: code)
                        if database != expected {
                            differences.append("filter_resource_ids(\(model.name(t.rawValue)), \(model.name(u.rawValue)), \(type), "
                                               + "\(ids), '\(code)'): db=\(database) model=\(expected)")
                        }
                        index += 1
                    }
                }
            }
        }
        stats.comparedResourceFilters += index
        return differences.isEmpty ? nil : failure(step, "\(differences.count) resource filters differ", differences)
    }

    private static func statName(_ decision: PermissionsModel.ResourceDecision) -> String {
        switch decision {
        case .noLiveAccess: "no live access"
        case .owner: "owner"
        case .denied(let overriding): overriding ? "deny overriding a grant" : "deny"
        case .grantedThere(let inherited): inherited ? "inherited there" : "granted there"
        case .tenantWide: "tenant-wide"
        case .notGranted: "not granted"
        }
    }

    /// The cache's answer for every triple, once every change of the step has reached it.
    private mutating func compareCache(step: Int, tenants: [TenantID], users: [UserID], codes: [String],
                                       database bits: [Character]) async throws -> String? {
        try await cache.barrier()
        let hitsBefore = cache.statistics.hits
        var differences: [String] = []
        var index = 0
        for t in tenants {
            for u in users {
                for code in codes {
                    let cached = try await cache.hasPermission(tenant: t, user: u, code: code)
                    if cached != (bits[index] == "1") {
                        differences.append("cache.hasPermission(\(model.name(t.rawValue)), \(model.name(u.rawValue)), '\(code)'): "
                                           + "cache=\(cached) db=\(bits[index] == "1")")
                    }
                    index += 1
                }
            }
        }
        stats.cacheComparedTriples += index
        stats.cacheHits += cache.statistics.hits - hitsBefore
        return differences.isEmpty ? nil : failure(step, "\(differences.count) cached checks differ", differences)
    }

    /// `auth.get_user_permissions` and `auth.check_tenant_access` for every (tenant, user) pair.
    private mutating func comparePermissionLists(step: Int) async throws -> String? {
        let rows = try await f.connection.query("""
            SELECT t.id, u.id, auth.check_tenant_access(t.id, u.id),
                   array_to_string(ARRAY(SELECT p.perm_code FROM auth.get_user_permissions(t.id, u.id) AS p), ',')
              FROM unnest($1::uuid[]) AS t(id), unnest($2::uuid[]) AS u(id)
            """, [checkedTenants, checkedUsers], prepared: true)
        var differences: [String] = []
        for row in rows {
            let t = try row.decode(TenantID.self, at: 0), u = try row.decode(UserID.self, at: 1)
            let access = try row.decode(Bool.self, at: 2)
            let codes = Set(try row.decode(String.self, at: 3).split(separator: ",").map(String.init))
            let pair = "(\(model.name(t.rawValue)), \(model.name(u.rawValue)))"
            if access != model.hasLiveMembership(tenant: t, user: u) {
                differences.append("check_tenant_access\(pair): db=\(access)")
            }
            let expected = model.userPermissions(tenant: t, user: u)
            if codes != expected {
                differences.append("get_user_permissions\(pair): db=\(codes.sorted()) model=\(expected.sorted())")
            }
            stats.comparedPairs += 1
        }
        return differences.isEmpty ? nil : failure(step, "\(differences.count) permission lists differ", differences)
    }

    /// `auth.explain_permission` for every (tenant, user) pair of the model, one code each (a
    /// different one every time): it grants exactly when the model does, and when it denies, its
    /// rows without a path name what stops the membership, as the model sees it.
    private mutating func compareExplanations(step: Int) async throws -> String? {
        let codes = model.catalogue.sorted()
        guard !codes.isEmpty else { return nil }
        var triples: [(TenantID, UserID, String)] = []
        for t in model.inOrder(model.tenants.keys) {
            for u in model.inOrder(model.users.keys) { triples.append((t, u, codes[(step + triples.count) % codes.count])) }
        }
        let rows = try await f.connection.query("""
            SELECT bool_or(e.granted),
                   coalesce(array_to_string(array_agg(e.reason ORDER BY e.reason COLLATE "C") FILTER (WHERE e.path IS NULL), ','), '')
              FROM unnest($1::uuid[], $2::uuid[], $3::text[]) WITH ORDINALITY AS x(t, u, code, n)
             CROSS JOIN LATERAL auth.explain_permission(x.t, x.u, x.code) AS e
             GROUP BY x.n ORDER BY x.n
            """, [triples.map(\.0), triples.map(\.1), triples.map(\.2)], prepared: true)
        guard rows.count == triples.count else { return failure(step, "explain_permission returned \(rows.count) groups for \(triples.count) triples") }
        var differences: [String] = []
        for (row, (t, u, code)) in zip(rows, triples) {
            let granted = try row.decode(Bool.self, at: 0)
            let reasons = try row.decode(String.self, at: 1)
            let expected = model.hasPermission(tenant: t, user: u, code: code)
            let tenant = model.tenants[t]!
            var stops: [String] = []
            if !expected {
                if !tenant.isActive { stops.append("tenant_inactive") }
                if model.users[u]!.isActive == false { stops.append("user_inactive") }
                switch tenant.members[u] {
                case nil: stops.append("not_member")
                case false?: stops.append("membership_inactive")
                default: break
                }
            }
            let triple = "explain_permission(\(model.name(t.rawValue)), \(model.name(u.rawValue)), '\(code)')"
            if granted != expected { differences.append("\(triple): granted db=\(granted) model=\(expected)") }
            let withoutNoGrant = reasons.split(separator: ",").map(String.init).filter { $0 != "no_grant" }
            if withoutNoGrant != stops.sorted() { differences.append("\(triple): reasons db=\(reasons) model=\(stops)") }
        }
        stats.comparedExplanations += triples.count
        return differences.isEmpty ? nil : failure(step, "\(differences.count) explanations differ", differences)
    }

    /// A check of a code of the tree that is not in the catalogue now must fail loudly (QN003).
    private mutating func compareUnknownCode(step: Int) async throws -> String? {
        guard let code = OperationGenerator.codeUniverse.first(where: { !model.catalogue.contains($0) }),
              let t = checkedTenants.first, let u = checkedUsers.first else { return nil }
        do {
            let granted = try await f.auth.hasPermission(tenant: t, user: u, code: code)
            return failure(step, "has_permission of '\(code)', not in the catalogue, returned \(granted) instead of raising QN003")
        } catch let error as PermissionsError where error.code == .unknownPermission {
            return nil
        }
    }

    /// Every row of the tables the model mirrors, ids replaced by names, against the model's state.
    mutating func compareState(step: Int) async throws -> String? {
        let rows = try await f.connection.query("""
            SELECT 'permission', code::text, NULL, NULL FROM auth.permission
            UNION ALL SELECT 'user', user_id::text, 'active=' || is_active, NULL FROM auth.user_info
            UNION ALL SELECT 'tenant', tenant_id::text, 'active=' || is_active, NULL FROM auth.tenant
            UNION ALL SELECT 'member', tenant_id::text, user_id::text, 'active=' || is_active FROM auth.tenant_user
            UNION ALL SELECT 'owner', tenant_id::text, coalesce(user_group_id::text, '-'), user_id::text FROM auth.owner
            UNION ALL SELECT 'group', tenant_id::text, user_group_id::text, 'active=' || is_active FROM auth.user_group
            UNION ALL SELECT 'group_member', user_group_id::text, user_id::text, NULL FROM auth.user_group_member
            UNION ALL SELECT 'perm_set', tenant_id::text, perm_set_id::text, NULL FROM auth.perm_set
            UNION ALL SELECT 'perm_set_permission', sp.perm_set_id::text, p.code::text, NULL
                        FROM auth.perm_set_permission sp JOIN auth.permission p ON p.permission_id = sp.permission_id
            UNION ALL SELECT 'assignment', a.tenant_id::text,
                             coalesce('user:' || a.user_id::text, 'group:' || a.user_group_id::text),
                             coalesce('set:' || a.perm_set_id::text, 'code:' || p.code::text)
                        FROM auth.permission_assignment a LEFT JOIN auth.permission p ON p.permission_id = a.permission_id
            UNION ALL SELECT 'resource_grant', rg.tenant_id::text,
                             coalesce('user:' || rg.user_id::text, 'group:' || rg.user_group_id::text),
                             rg.resource_type || '/' || rg.resource_id || ' ' || p.code::text || ' deny=' || rg.is_deny
                        FROM auth.resource_grant rg JOIN auth.permission p ON p.permission_no = rg.permission_no
            """, [], prepared: true)
        let database = try rows.map { row in
            try (0..<4).compactMap { try row.decode(String?.self, at: $0) }.map(nameIDs).joined(separator: " ")
        }.sorted()
        let expected = model.stateLines()
        stats.comparedStates += 1
        guard database != expected else { return nil }
        let missing = expected.filter { !database.contains($0) }.map { "only in the model: \($0)" }
        let extra = database.filter { !expected.contains($0) }.map { "only in the database: \($0)" }
        return failure(step, "the tables differ from the model", missing + extra)
    }

    /// `text` with a uuid (alone or after `user:`, `group:` or `set:`) replaced by its name.
    private func nameIDs(_ text: String) -> String {
        let parts = text.split(separator: ":", maxSplits: 1)
        if let id = UUID(uuidString: String(parts.last!)) {
            return (parts.count == 2 ? "\(parts[0]):" : "") + model.name(id)
        }
        return text
    }

    // MARK: - History and failure messages

    private mutating func remember(_ step: Int, _ operation: ModelOperation, _ outcome: Outcome, names: PermissionsModel) {
        let result = outcome.errorCode.map { "→ \($0) \(outcome.message)" } ?? "→ ok"
        history.append("#\(step) \(operation.describe(names.name)) \(result)")
        if history.count > 12 { history.removeFirst() }
    }

    /// Keeps the ids of tenants and users the last step deleted, to check that they deny.
    private mutating func retire(_ before: PermissionsModel) {
        retiredTenants += before.inOrder(before.tenants.keys).filter { model.tenants[$0] == nil }
        retiredUsers += before.inOrder(before.users.keys).filter { model.users[$0] == nil }
        retiredTenants = Array(retiredTenants.suffix(2))
        retiredUsers = Array(retiredUsers.suffix(2))
    }

    private func failure(_ step: Int, _ what: String, _ details: [String] = []) -> String {
        var lines = ["Model-based run, seed \(seed), step \(step): \(what)."]
        if !details.isEmpty {
            lines.append("Differences\(details.count > 25 ? " (first 25 of \(details.count))" : ""):")
            lines += details.prefix(25).map { "  \($0)" }
        }
        lines.append("Last operations:")
        lines += history.map { "  \($0)" }
        lines.append("Replay: PGPERM_MODEL_SEED=\(seed) PGPERM_MODEL_STEPS=\(step) swift test --filter ModelBased")
        return lines.joined(separator: "\n")
    }
}
