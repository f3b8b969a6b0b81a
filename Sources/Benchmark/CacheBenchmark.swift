import Foundation
import Permissions
import PQ

/// Measures ``PermissionCache``: in-process checks per second on one and on two cores, the
/// memory of a cached membership, and how long a committed change takes to reach the cache's
/// answers while other changes stream in.
struct CacheBenchmark {
    let conninfo: String
    let scale: BenchmarkScale
    /// Members whose checks are measured (all cached first).
    let hotMembers: Int
    let seconds: Int
    /// Background permission changes per second during the latency measurement.
    let changesPerSecond: Int
    let latencySamples: Int
    let progress: @Sendable (String) -> Void

    struct Result: Sendable {
        /// Cached checks per second with 1 and with 2 tasks.
        let checksPerSecond: [(tasks: Int, perSecond: Double)]
        let hitShare: Double
        let bytesPerMembership: Double
        let averagePermissions: Double
        /// Milliseconds from the writer's COMMIT (sent) to the cache's changed answer.
        let latency: LatencySummary
        /// The same from the moment COMMIT returned: without the commit's own WAL flush, which
        /// on a shared disk can take milliseconds before any listener can be told.
        let latencyAfterCommit: LatencySummary
        let achievedChangesPerSecond: Double
    }

    func run() async throws -> Result {
        let pool = ConnectionPool(.init(conninfo: conninfo, maximumConnections: 2))
        let cache = PermissionCache(pool: pool, configuration: .init(maximumMemberships: max(hotMembers, 100_000)))
        let listener = Task { await cache.run() }
        defer {
            listener.cancel()
            Task { await pool.close() }
        }
        while !cache.statistics.isTrusted { try await Task.sleep(for: .milliseconds(10)) }
        let inputs = Inputs(scale: scale, members: hotMembers)

        progress("Filling the cache with \(hotMembers.formatted()) memberships ...")
        _ = try await cache.hasPermission(tenant: inputs.members[0].tenant, user: inputs.members[0].user, code: inputs.codes[0])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for part in 0..<2 {
                group.addTask {
                    for (tenant, user) in stride(from: part, to: inputs.members.count, by: 2).map({ inputs.members[$0] }) {
                        _ = try await cache.hasPermission(tenant: tenant, user: user, code: inputs.codes[0])
                    }
                }
            }
            try await group.waitForAll()
        }
        let filled = cache.statistics
        let bytesPerMembership = Double(filled.membershipBytes) / Double(filled.memberships)
        let averagePermissions = try await pool.query("""
            SELECT avg(cardinality(permission_nos))::float8 FROM auth.effective_access
             WHERE user_id = ANY ($1::uuid[])
            """, [inputs.members.map(\.user)]).scalar(Double.self)

        var throughput: [(Int, Double)] = []
        let before = cache.statistics
        for tasks in [1, 2] {
            progress("Cached checks with \(tasks) task\(tasks == 1 ? "" : "s") (\(seconds) s) ...")
            throughput.append((tasks, try await Self.checksPerSecond(cache, inputs, tasks: tasks, seconds: seconds)))
        }
        let after = cache.statistics
        let hitShare = Double(after.hits - before.hits) / Double(max(1, after.hits + after.misses - before.hits - before.misses))

        progress("Invalidation latency: \(latencySamples) changes under \(changesPerSecond) changes/s ...")
        let (latency, latencyAfterCommit, achieved) = try await invalidationLatency(cache)
        return Result(checksPerSecond: throughput, hitShare: hitShare, bytesPerMembership: bytesPerMembership,
                      averagePermissions: averagePermissions, latency: latency, latencyAfterCommit: latencyAfterCommit,
                      achievedChangesPerSecond: achieved)
    }

    /// Random checks of the hot members from `tasks` tasks; checks per second over all.
    private static func checksPerSecond(_ cache: PermissionCache, _ inputs: Inputs, tasks: Int, seconds: Int) async throws -> Double {
        let started = ContinuousClock.now
        let deadline = started + .seconds(seconds)
        let calls = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    var random = XorShift(seed: UInt64.random(in: 1...UInt64.max))
                    var calls = 0
                    while ContinuousClock.now < deadline {
                        for _ in 0..<1_024 {  // the clock is read once per batch: it costs as much as a check
                            let (tenant, user) = inputs.members[random.below(inputs.members.count)]
                            _ = try await cache.hasPermission(tenant: tenant, user: user,
                                                              code: inputs.codes[random.below(inputs.codes.count)])
                        }
                        calls += 1_024
                    }
                    return calls
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(calls) / ((ContinuousClock.now - started).microseconds / 1e6)
    }

    /// A probe member's code is granted and revoked in turn by another connection; each sample
    /// runs from just before its COMMIT to the first cached answer that shows it. Meanwhile a
    /// writer makes `changesPerSecond` other changes of rights across the tenants.
    private func invalidationLatency(_ cache: PermissionCache) async throws -> (LatencySummary, LatencySummary, Double) {
        let probeTenant = TenantID(UUID(uuidString: BenchmarkIDs.text(BenchmarkIDs.tenant, 1))!)
        let probeUser = UserID(UUID(uuidString: BenchmarkIDs.text(BenchmarkIDs.user, 1))!)
        let probeCode = "m9.s9.p8"
        let probe = try await Connection.connect(conninfo)
        let background = try await Connection.connect(conninfo)
        defer {
            Task {
                await probe.close()
                await background.close()
            }
        }
        let stop = StopFlag()
        let writer = Task { try await backgroundChanges(on: background, until: stop) }

        let auth = AuthClient(probe)
        var granted = try await cache.hasPermission(tenant: probeTenant, user: probeUser, code: probeCode)
        var latencies: [Double] = [], afterCommit: [Double] = []
        for _ in 0..<latencySamples {
            _ = try await cache.hasPermission(tenant: probeTenant, user: probeUser, code: probeCode)  // cached again
            try await probe.query("BEGIN")
            if granted {
                try await auth.unassignPermission(tenant: probeTenant, from: .user(probeUser), grant: .permission(probeCode))
            } else {
                try await auth.assignPermission(tenant: probeTenant, to: .user(probeUser), grant: .permission(probeCode))
            }
            let committing = ContinuousClock.now
            try await probe.query("COMMIT")
            let committed = ContinuousClock.now
            granted.toggle()
            while try await cache.hasPermission(tenant: probeTenant, user: probeUser, code: probeCode) != granted {
                guard ContinuousClock.now - committing < .seconds(5) else {
                    throw PostgresError(kind: .usage, message: "the cache did not see a committed change within 5 s")
                }
                // Looks again every 50 µs rather than spinning: a loop that never sleeps would
                // hold one of the two cores and delay the very threads (the listener's, the
                // server's) that deliver the change.
                try await Task.sleep(for: .microseconds(50))
            }
            let changed = ContinuousClock.now
            latencies.append((changed - committing).microseconds)
            afterCommit.append((changed - committed).microseconds)
            try await Task.sleep(for: .milliseconds(2))  // the next sample starts from a settled cache
        }
        stop.set()
        let achieved = try await writer.value
        return (LatencySummary(name: "invalidation latency", latenciesMicroseconds: latencies, seconds: 1),
                LatencySummary(name: "invalidation latency after COMMIT returned", latenciesMicroseconds: afterCommit, seconds: 1),
                achieved)
    }

    /// Grants and revokes random leaves of random members, one transaction each, at a steady
    /// pace; returns the rate achieved.
    private func backgroundChanges(on connection: Connection, until stop: StopFlag) async throws -> Double {
        let auth = AuthClient(connection)
        let started = ContinuousClock.now
        var random = XorShift(seed: 42)
        var changes = 0
        var held: [(TenantID, UserID, String)] = []
        while !stop.isSet {
            let due = started + .microseconds(changes * 1_000_000 / changesPerSecond)
            if ContinuousClock.now < due { try await Task.sleep(until: due) }
            if held.count > 50 || (!held.isEmpty && random.below(2) == 0) {
                let (tenant, user, code) = held.removeLast()
                try await auth.unassignPermission(tenant: tenant, from: .user(user), grant: .permission(code))
            } else {
                let member = 2 + random.below(scale.users - 1)  // never the probe (member 1)
                let tenant = TenantID(UUID(uuidString: BenchmarkIDs.text(BenchmarkIDs.tenant, (member - 1) / scale.usersPerTenant + 1))!)
                let user = UserID(UUID(uuidString: BenchmarkIDs.text(BenchmarkIDs.user, member))!)
                let code = "m9.s8.p\(random.below(10))"
                do {
                    try await auth.assignPermission(tenant: tenant, to: .user(user), grant: .permission(code))
                    held.append((tenant, user, code))
                } catch let error as PermissionsError where error.code == .alreadyAssigned {}
            }
            changes += 1
        }
        for (tenant, user, code) in held {
            try await auth.unassignPermission(tenant: tenant, from: .user(user), grant: .permission(code))
        }
        return Double(changes) / ((ContinuousClock.now - started).microseconds / 1e6)
    }

    /// The hot members (the data set's first users) and the codes checked.
    private struct Inputs: Sendable {
        /// Side by side, so picking a member reads one place (as a request's ids would be at hand).
        let members: [(tenant: TenantID, user: UserID)]
        let codes: [String]

        init(scale: BenchmarkScale, members: Int) {
            self.members = (1...min(members, scale.users)).map {
                (TenantID(UUID(uuidString: BenchmarkIDs.text(BenchmarkIDs.tenant, ($0 - 1) / scale.usersPerTenant + 1))!),
                 UserID(UUID(uuidString: BenchmarkIDs.text(BenchmarkIDs.user, $0))!))
            }
            codes = (0...999).map(BenchmarkIDs.leafCode)
        }
    }
}

/// Set once by one task, read by another.
private final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    func set() { lock.withLock { stopped = true } }
    var isSet: Bool { lock.withLock { stopped } }
}
