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
        let inputs = Inputs(scale: scale)
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    switch mode {
                    case .leasePerCall:
                        return try await Self.checks(until: deadline, auth: AuthClient(pool), inputs: inputs)
                    case .connectionPerTask:
                        return try await pool.withConnection { connection in
                            try await Self.checks(until: deadline, auth: AuthClient(connection), inputs: inputs)
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

    /// The ids and codes the checks draw from, built before the clock starts, so the loop
    /// measures the wrapper rather than uuid parsing.
    private struct Inputs: Sendable {
        let scale: BenchmarkScale
        let tenants: [TenantID]
        let users: [UserID]
        let codes: [String]

        init(scale: BenchmarkScale) {
            self.scale = scale
            tenants = (1...scale.tenants).map { TenantID(UUID(uuidString: BenchmarkIDs.text(BenchmarkIDs.tenant, $0))!) }
            users = (1...scale.users).map { UserID(UUID(uuidString: BenchmarkIDs.text(BenchmarkIDs.user, $0))!) }
            codes = (0...999).map(BenchmarkIDs.leafCode)
        }
    }

    /// Random checks until `deadline`; returns each call's latency in microseconds. Draws
    /// come from a cheap generator, not a `getrandom` system call each.
    private static func checks(until deadline: ContinuousClock.Instant, auth: AuthClient,
                               inputs: Inputs) async throws -> [Double] {
        var random = XorShift(seed: UInt64.random(in: 1...UInt64.max))
        var latencies: [Double] = []
        latencies.reserveCapacity(1_000_000)
        while ContinuousClock.now < deadline {
            let user = random.below(inputs.users.count)
            let code = inputs.codes[random.below(inputs.codes.count)]
            let callStarted = ContinuousClock.now
            _ = try await auth.hasPermission(tenant: inputs.tenants[user / inputs.scale.usersPerTenant],
                                             user: inputs.users[user], code: code)
            latencies.append((ContinuousClock.now - callStarted).microseconds)
        }
        return latencies
    }
}

/// xorshift64*: statistically fine for picking benchmark inputs, and no system call per draw.
struct XorShift {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    /// A number in `0..<bound`.
    mutating func below(_ bound: Int) -> Int {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return Int((state &* 0x2545_F491_4F6C_DD1D) % UInt64(bound))
    }
}
