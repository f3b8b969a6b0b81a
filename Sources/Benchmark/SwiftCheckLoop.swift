import Foundation
import Permissions
import PQ

/// Calls `AuthClient.hasPermission` in a loop from `clients` tasks sharing one pool of
/// `clients` connections: the end-to-end cost for a Swift service.
struct SwiftCheckLoop {
    let conninfo: String
    let clients: Int
    let scale: BenchmarkScale

    func run(seconds: Int) async throws -> LatencySummary {
        let pool = ConnectionPool(.init(conninfo: conninfo, maximumConnections: clients))
        defer { Task { await pool.close() } }
        let auth = AuthClient(pool)
        let scale = self.scale
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var latencies: [Double] = []
                    latencies.reserveCapacity(seconds * 50_000)
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
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let seconds = (ContinuousClock.now - started).microseconds / 1e6
        return LatencySummary(name: "auth.has_permission, Swift AuthClient + pool", latenciesMicroseconds: latencies, seconds: seconds)
    }
}
