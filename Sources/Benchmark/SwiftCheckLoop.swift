import Foundation
import Permissions
import PQ

/// Calls `AuthClient.hasPermission` in a loop from `clients` tasks sharing one pool of
/// `clients` connections: the end-to-end cost for a Swift service.
struct SwiftCheckLoop {
    /// How the tasks use the pool.
    enum Mode {
        /// Every check leases a connection (`AuthClient(pool)`).
        case leasePerCall
        /// Each task leases one connection for its whole loop, as each pgbench client holds
        /// one; its code then runs on that connection's thread.
        case connectionPerTask
    }

    let conninfo: String
    let clients: Int
    let scale: BenchmarkScale

    func run(seconds: Int, mode: Mode) async throws -> LatencySummary {
        let pool = ConnectionPool(.init(conninfo: conninfo, maximumConnections: clients))
        defer { Task { await pool.close() } }
        let scale = self.scale
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    switch mode {
                    case .leasePerCall:
                        return try await Self.checks(until: deadline, auth: AuthClient(pool), scale: scale)
                    case .connectionPerTask:
                        return try await pool.withConnection { connection in
                            try await Self.checks(until: deadline, auth: AuthClient(connection), scale: scale)
                        }
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let seconds = (ContinuousClock.now - started).microseconds / 1e6
        let name = mode == .leasePerCall
            ? "auth.has_permission, Swift AuthClient, pool lease per call"
            : "auth.has_permission, Swift AuthClient, pooled connection per task"
        return LatencySummary(name: name, latenciesMicroseconds: latencies, seconds: seconds)
    }

    /// Random checks until `deadline`; returns each call's latency in microseconds.
    private static func checks(until deadline: ContinuousClock.Instant, auth: AuthClient,
                               scale: BenchmarkScale) async throws -> [Double] {
        var latencies: [Double] = []
        latencies.reserveCapacity(1_000_000)
        while ContinuousClock.now < deadline {
            let user = Int.random(in: 1...scale.users)
            let tenant = TenantID(UUID(uuidString: BenchmarkIDs.text(BenchmarkIDs.tenant, (user - 1) / scale.usersPerTenant + 1))!)
            let userID = UserID(UUID(uuidString: BenchmarkIDs.text(BenchmarkIDs.user, user))!)
            let code = BenchmarkIDs.leafCode(Int.random(in: 0...999))
            let callStarted = ContinuousClock.now
            _ = try await auth.hasPermission(tenant: tenant, user: userID, code: code)
            latencies.append((ContinuousClock.now - callStarted).microseconds)
        }
        return latencies
    }
}
