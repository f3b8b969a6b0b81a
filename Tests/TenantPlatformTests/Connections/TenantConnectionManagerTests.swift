import PostgresTestSupport
import PQ
import Testing
@testable import TenantPlatform

@Suite("Tenant connection manager")
struct TenantConnectionManagerTests {
    private func withManager(
        _ settings: TenantPoolSettings,
        _ body: (TenantConnectionManager, SimulatedTenants) async throws -> Void
    ) async throws {
        try await withSimulatedTenants(.empty, settings, body)
    }

    private func backendPID(_ manager: TenantConnectionManager, _ tenant: String) async throws -> Int {
        try await manager.withConnection(to: simulated(tenant)) { try await $0.query("SELECT pg_backend_pid()").scalar(Int.self) }
    }

    /// Starts `count` leases of `tenant` that hold their connection until `gate` opens.
    private func hold(_ count: Int, of tenant: String, _ manager: TenantConnectionManager,
                      until gate: Gate) -> [Task<Void, any Error>] {
        (0..<count).map { _ in
            Task { try await manager.withConnection(to: simulated(tenant)) { _ in await gate.pass() } }
        }
    }

    @Test("a tenant's pool opens on first use and is reused; the source is asked once per opening")
    func poolOpensOnFirstUse() async throws {
        try await withManager(.init(poolSize: 2)) { manager, tenants in
            #expect(manager.statistics.openPools == 0)
            #expect(tenants.calls("acme") == 0)
            let first = try await backendPID(manager, "acme")
            for _ in 0..<5 { #expect(try await backendPID(manager, "acme") == first) }
            #expect(tenants.calls("acme") == 1)
            #expect(try await tenants.serverConnections("acme") == 1)
            #expect(manager.statistics[pool: "acme"] == .init(open: 1, busy: 0, idle: 1))

            await manager.closePool(tenant: simulated("acme").tenant)
            #expect(manager.statistics.openPools == 0)
            #expect(try await eventually { try await tenants.serverConnections("acme") == 0 })
            #expect(try await backendPID(manager, "acme") != first)
            #expect(tenants.calls("acme") == 2)
        }
    }

    @Test("a tenant opens at most pool size + overflow connections; overflow ones close when returned")
    func poolSizeAndOverflow() async throws {
        try await withManager(.init(poolSize: 2, maxOverflow: 1, maximumConnections: 10,
                                    acquireTimeout: .milliseconds(300))) { manager, tenants in
            let gate = Gate()
            let holders = hold(3, of: "acme", manager, until: gate)
            #expect(await eventually { gate.arrived == 3 })
            #expect(try await tenants.serverConnections("acme") == 3)

            let error = try await #require(throws: TenantConnectionError.self) {
                try await manager.withConnection(to: simulated("acme")) { _ in }
            }
            #expect(error.code == .tenantLimitReached)
            #expect(error.description.contains("DB_POOL_SIZE 2 + DB_POOL_MAX_OVERFLOW 1"))

            gate.open()
            for holder in holders { try await holder.value }
            #expect(manager.statistics[pool: "acme"] == .init(open: 2, busy: 0, idle: 2))
            #expect(try await eventually { try await tenants.serverConnections("acme") == 2 })
        }
    }

    @Test("at the ceiling with every connection busy, a lease fails with a clear error after the timeout")
    func ceilingReachedWhileBusy() async throws {
        try await withManager(.init(poolSize: 1, maxOverflow: 5, maximumConnections: 2,
                                    acquireTimeout: .milliseconds(300))) { manager, tenants in
            let gate = Gate()
            let holders = hold(1, of: "a", manager, until: gate) + hold(1, of: "b", manager, until: gate)
            #expect(await eventually { gate.arrived == 2 })

            let clock = ContinuousClock()
            let start = clock.now
            let error = try await #require(throws: TenantConnectionError.self) {
                try await manager.withConnection(to: simulated("c")) { _ in }
            }
            let waited = clock.now - start
            #expect(error.code == .ceilingReached)
            #expect(error.tenant == "c")
            #expect(error.description.contains("ceiling of 2 connections"))
            #expect(error.description.contains("2 busy"))
            #expect(error.hint?.contains("TENANT_MAX_CONNECTIONS") == true)
            #expect(waited >= .milliseconds(300) && waited < .seconds(5))
            #expect(manager.statistics.waitingTasks == 0)
            #expect(try await tenants.serverConnections() == 2)

            gate.open()
            for holder in holders { try await holder.value }
            // The slot the failed lease waited for is still usable.
            _ = try await backendPID(manager, "c")
            #expect(manager.statistics.openConnections == 2)
        }
    }

    @Test("a waiting lease gets the slot another tenant releases, evicting that tenant's idle pool")
    func waiterServedByOtherTenantsRelease() async throws {
        try await withManager(.init(poolSize: 1, maximumConnections: 1)) { manager, tenants in
            let gate = Gate()
            let holder = hold(1, of: "a", manager, until: gate)[0]
            #expect(await eventually { gate.arrived == 1 })
            let waiter = Task { try await backendPID(manager, "b") }
            #expect(await eventually { manager.statistics.waitingTasks == 1 })

            gate.open()
            try await holder.value
            _ = try await waiter.value
            let statistics = manager.statistics
            #expect(statistics.evictedConnections == 1)
            #expect(statistics.evictedPools == 1)
            #expect(statistics.poolNames == ["b"])
            #expect(statistics.peakOpenConnections == 1)
            #expect(try await eventually { try await tenants.serverConnections("a") == 0 })
            #expect(try await tenants.serverConnections("b") == 1)
        }
    }

    @Test("at the ceiling a new tenant takes the slot of the least recently used idle pool")
    func leastRecentlyUsedEviction() async throws {
        try await withManager(.init(poolSize: 1, maximumConnections: 3)) { manager, tenants in
            for tenant in ["a", "b", "c", "a"] { _ = try await backendPID(manager, tenant) }
            // Least recently used first: b, c, a.
            _ = try await backendPID(manager, "d")
            #expect(manager.statistics.poolNames == ["a", "c", "d"])
            _ = try await backendPID(manager, "e")
            #expect(manager.statistics.poolNames == ["a", "d", "e"])
            let statistics = manager.statistics
            #expect(statistics.evictedPools == 2)
            #expect(statistics.openConnections == 3)
            #expect(statistics.peakOpenConnections == 3)
            #expect(try await eventually { try await tenants.serverConnections() == 3 })
            #expect(try await tenants.serverConnections("b") == 0)

            // An evicted pool opens again on next use, asking the source again.
            _ = try await backendPID(manager, "b")
            #expect(tenants.calls("b") == 2)
            #expect(tenants.calls("a") == 1)
        }
    }

    @Test("idle connections, then idle pools, are reclaimed after their timeouts")
    func idleReclaim() async throws {
        // Long enough that a busy machine still sees the idle connections before they go, and
        // the pool's timeout far enough after theirs that a late sweep cannot take both at once
        // (a full run on 2 cores delays the sweeper by seconds).
        try await withManager(.init(poolSize: 2, idleConnectionTimeout: .seconds(1),
                                    idlePoolTimeout: .seconds(12))) { manager, tenants in
            let gate = Gate()
            let holders = hold(2, of: "a", manager, until: gate)
            #expect(await eventually { gate.arrived == 2 })
            gate.open()
            for holder in holders { try await holder.value }
            #expect(manager.statistics[pool: "a"]?.idle == 2)

            // Connections close first; the pool (and its conninfo) stays a while longer.
            #expect(await eventually(within: .seconds(10)) { manager.statistics[pool: "a"]?.open == 0 })
            #expect(manager.statistics.openPools == 1)
            #expect(try await eventually(within: .seconds(10)) { try await tenants.serverConnections("a") == 0 })
            #expect(await eventually(within: .seconds(30)) { manager.statistics.openPools == 0 })
            #expect(manager.statistics.openConnections == 0)

            _ = try await backendPID(manager, "a")
            #expect(tenants.calls("a") == 2)
        }
    }

    @Test("closing a pool fails its waiting tasks and closes leased connections when they return")
    func closePoolFailsWaiters() async throws {
        try await withManager(.init(poolSize: 1, maxOverflow: 0)) { manager, tenants in
            let gate = Gate()
            let holder = Task {
                try await manager.withConnection(to: simulated("a")) { connection in
                    await gate.pass()
                    // The lease stays usable after its pool closed.
                    return try await connection.query("SELECT 1").scalar(Int.self)
                }
            }
            #expect(await eventually { gate.arrived == 1 })
            let waiter = Task { try await backendPID(manager, "a") }
            #expect(await eventually { manager.statistics.waitingTasks == 1 })

            await manager.closePool(tenant: simulated("a").tenant)
            let error = await #expect(throws: TenantConnectionError.self) { try await waiter.value }
            #expect(error?.code == .poolClosed)
            #expect(manager.statistics.openPools == 0)
            #expect(manager.statistics.openConnections == 1)

            gate.open()
            let value = try await holder.value
            #expect(value == 1)
            #expect(manager.statistics.openConnections == 0)
            #expect(try await eventually { try await tenants.serverConnections("a") == 0 })
        }
    }

    @Test("a connection whose backend was terminated is closed, not reused")
    func brokenConnectionIsNotReused() async throws {
        try await withManager(.init(poolSize: 1)) { manager, tenants in
            let first = try await backendPID(manager, "a")
            await #expect(throws: PostgresError.self) {
                try await manager.withConnection(to: simulated("a")) { connection in
                    try await tenants.terminate(first)
                    try await connection.query("SELECT 1")
                }
            }
            #expect(manager.statistics.openConnections == 0)
            let second = try await backendPID(manager, "a")
            #expect(second != first)
            #expect(tenants.calls("a") == 1)
        }
    }

    @Test("an idle pooled connection the server ended (a suspension, pg_terminate_backend) is replaced without failing the request")
    func idleConnectionEndedByTheServer() async throws {
        try await withManager(.init(poolSize: 1)) { manager, tenants in
            let first = try await backendPID(manager, "a")
            try await tenants.terminate(first)
            // The request after it succeeds on a new connection.
            let second = try await backendPID(manager, "a")
            #expect(second != first)
            #expect(manager.statistics.openConnections == 1)
        }
    }

    @Test("a connection returned inside a transaction is closed, not reused")
    func openTransactionIsNotReused() async throws {
        try await withManager(.init(poolSize: 1)) { manager, _ in
            let first = try await manager.withConnection(to: simulated("a")) { connection in
                try await connection.query("BEGIN")
                return try await connection.query("SELECT pg_backend_pid()").scalar(Int.self)
            }
            let (second, state) = try await manager.withConnection(to: simulated("a")) { connection in
                (try await connection.query("SELECT pg_backend_pid()").scalar(Int.self), connection.transactionState)
            }
            #expect(second != first)
            #expect(state == .idle)
        }
    }

    @Test("a transaction through the manager commits, or rolls back when its body throws")
    func transactions() async throws {
        struct Abort: Error {}
        try await withManager(.init(poolSize: 1)) { manager, _ in
            try await manager.withConnection(to: simulated("a")) { try await $0.query("CREATE TABLE t (x int)") }
            _ = try await manager.withTransaction(to: simulated("a")) { try await $0.query("INSERT INTO t VALUES (1)") }
            await #expect(throws: Abort.self) {
                try await manager.withTransaction(to: simulated("a")) { connection in
                    try await connection.query("INSERT INTO t VALUES (2)")
                    throw Abort()
                }
            }
            let rows = try await manager.withConnection(to: simulated("a")) {
                try await $0.query("SELECT count(*) FROM t").scalar(Int.self)
            }
            #expect(rows == 1)
        }
    }

    @Test("a task cancelled while waiting gets CancellationError and leaves no slot behind")
    func cancellationWhileWaiting() async throws {
        try await withManager(.init(poolSize: 1, maximumConnections: 1)) { manager, _ in
            let gate = Gate()
            let holder = hold(1, of: "a", manager, until: gate)[0]
            #expect(await eventually { gate.arrived == 1 })
            let waiter = Task { try await backendPID(manager, "b") }
            #expect(await eventually { manager.statistics.waitingTasks == 1 })

            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            #expect(manager.statistics.waitingTasks == 0)
            #expect(manager.statistics.openConnections == 1)

            gate.open()
            try await holder.value
            _ = try await backendPID(manager, "b")
            #expect(manager.statistics.openConnections == 1)
        }
    }

    @Test("a source that throws, or a conninfo that cannot connect, leaves no slot behind")
    func failedOpeningsDoNotLeakSlots() async throws {
        try await withManager(.init(poolSize: 1, maximumConnections: 1,
                                    acquireTimeout: .milliseconds(500))) { manager, tenants in
            tenants.refuse("refused")
            tenants.makeUnreachable("unreachable")
            for _ in 0..<3 {
                await #expect(throws: SimulatedTenants.Refused.self) { try await backendPID(manager, "refused") }
                let error = await #expect(throws: PostgresError.self) { try await backendPID(manager, "unreachable") }
                #expect(error?.kind == .connection)
            }
            // Each failure forgot the pool, so each attempt asked the source again.
            #expect(tenants.calls("refused") == 3)
            #expect(tenants.calls("unreachable") == 3)
            let statistics = manager.statistics
            #expect(statistics.openConnections == 0)
            #expect(statistics.openPools == 0)
            // The only slot under the ceiling is free.
            _ = try await backendPID(manager, "ok")
        }
    }

    @Test("after shutdown, leases fail and idle connections are closed")
    func shutdownRefusesLeases() async throws {
        try await withManager(.init()) { manager, tenants in
            _ = try await backendPID(manager, "a")
            await manager.shutdown()
            let error = try await #require(throws: TenantConnectionError.self) { try await backendPID(manager, "a") }
            #expect(error.code == .shutdown)
            #expect(manager.statistics.openConnections == 0)
            #expect(try await eventually { try await tenants.serverConnections("a") == 0 })
        }
    }

    @Test("the ceiling holds under many concurrent tenants, on the manager's count and on the server's")
    func ceilingUnderLoad() async throws {
        try await withManager(TenantPoolSettings(poolSize: 2, maxOverflow: 3, maximumConnections: 20)) { manager, tenants in
            let measurement = try await ConnectionCeilingMeasurement.run(through: manager, tenants: tenants)
            print("tenant connection ceiling:", measurement.summary)
            #expect(measurement.tenantsServed > 90)
            #expect(measurement.peakOpenConnections <= 20)
            // The server may show a closed connection's backend for a moment after the manager
            // closed it to open another (a CI run under load saw 21 once): two of slack there;
            // the manager's own count above is exact.
            #expect(measurement.peakServerConnections <= 22)
            #expect(measurement.peakServerConnections > 0)
            #expect(measurement.evictedConnections > 0)
        }
    }
}
