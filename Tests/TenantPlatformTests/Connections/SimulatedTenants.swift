import Foundation
import PostgresTestSupport
import PQ
import Synchronization
import TenantPlatform

/// Many tenants without many databases: every slug maps to the test database, tagged with
/// `application_name=<slug>`, so `pg_stat_activity` tells the tenants' connections apart.
final class SimulatedTenants: TenantConnectionSource {
    struct Refused: Error {}

    let database: TestDatabase
    private let state = Mutex<(calls: [String: Int], refused: Set<String>, unreachable: Set<String>)>(([:], [], []))
    /// Watches the server from outside the manager.
    let observer: Connection

    private init(database: TestDatabase, observer: Connection) {
        self.database = database
        self.observer = observer
    }

    static func make(_ database: TestDatabase) async throws -> SimulatedTenants {
        SimulatedTenants(database: database, observer: try await database.connect())
    }

    func connectionInfo(for target: TenantConnectionTarget) async throws -> String {
        let slug = target.name
        let (refused, unreachable) = state.withLock { state in
            state.calls[slug, default: 0] += 1
            return (state.refused.contains(slug), state.unreachable.contains(slug))
        }
        if refused { throw Refused() }
        // A database that does not exist: the source answers, connecting fails.
        if unreachable { return "\(database.conninfo) dbname=no_such_database application_name=\(slug)" }
        return "\(database.conninfo) application_name=\(slug)"
    }

    /// How often the manager asked for `slug`'s conninfo (once per pool opening).
    func calls(_ slug: String) -> Int { state.withLock { $0.calls[slug, default: 0] } }

    /// Pool openings so far over all tenants, and how many tenants they were for.
    var poolOpenings: (total: Int, tenants: Int) { state.withLock { ($0.calls.values.reduce(0, +), $0.calls.count) } }

    /// The source throws for `slug`.
    func refuse(_ slug: String) { state.withLock { _ = $0.refused.insert(slug) } }

    /// The source gives `slug` a conninfo that cannot connect.
    func makeUnreachable(_ slug: String) { state.withLock { _ = $0.unreachable.insert(slug) } }

    /// Server connections of `slug` right now, per `pg_stat_activity`.
    func serverConnections(_ slug: String) async throws -> Int {
        try await observer.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
            [slug]).scalar(Int.self)
    }

    /// Server connections of all simulated tenants (`observer` has no application name).
    func serverConnections() async throws -> Int {
        try await observer.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name <> ''"
        ).scalar(Int.self)
    }

    /// The backend pid of a connection, for `pg_terminate_backend`.
    func terminate(_ pid: Int) async throws {
        // Waits (up to 5 s) until the backend has exited, as a suspension does.
        try await observer.query("SELECT pg_terminate_backend($1::int, 5000)", [pid])
    }

    func close() async { await observer.close() }
}

/// Runs `body` with simulated tenants on a fresh database cloned from `template` and a
/// manager over them, shut down afterwards.
func withSimulatedTenants(
    _ template: TestPostgres.Template,
    _ settings: TenantPoolSettings,
    _ body: (TenantConnectionManager, SimulatedTenants) async throws -> Void
) async throws {
    try await withTestDatabase(template) { database in
        let tenants = try await SimulatedTenants.make(database)
        let manager = TenantConnectionManager(settings: settings, source: tenants)
        do {
            try await body(manager, tenants)
        } catch {
            await manager.shutdown()
            await tenants.close()
            throw error
        }
        await manager.shutdown()
        await tenants.close()
    }
}

/// The simulated tenant called `name`: the same id for the same name, all on one server.
func simulated(_ name: String) -> TenantConnectionTarget {
    let id = simulatedIDs.withLock { ids in
        if let id = ids[name] { return id }
        let id = PlatformTenantID(UUID())
        ids[name] = id
        return id
    }
    return TenantConnectionTarget(tenant: id, server: simulatedServer, serverName: "simulated", name: name)
}

private let simulatedIDs = Mutex<[String: PlatformTenantID]>([:])
private let simulatedServer = ServerID(UUID())

extension TenantConnectionStatistics {
    /// The pool of the simulated tenant `name`.
    subscript(pool name: String) -> Pool? { pools[simulated(name).tenant] }

    /// The names of the simulated tenants with an open pool.
    var poolNames: Set<String> {
        let names = simulatedIDs.withLock { ids in Dictionary(uniqueKeysWithValues: ids.map { ($1, $0) }) }
        return Set(pools.keys.compactMap { names[$0] })
    }
}

/// Polls `condition` every 10 ms until it holds; false if it still does not after `timeout`.
/// (Server-side effects such as a backend exiting after its connection closed take a moment;
/// a first connection on a loaded 2-core machine has taken over 5 seconds.) Returns as soon as
/// the condition holds, so the generous bound costs a passing test nothing.
func eventually(within timeout: Duration = .seconds(30),
                _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

/// Holds tasks inside their leases until the test opens it.
final class Gate: Sendable {
    private let state = Mutex<(isOpen: Bool, waiting: [CheckedContinuation<Void, Never>], arrived: Int)>((false, [], 0))

    /// Tasks that reached ``pass()``.
    var arrived: Int { state.withLock { $0.arrived } }

    /// Waits until the gate opens.
    func pass() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state in
                state.arrived += 1
                if !state.isOpen { state.waiting.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLock { state in
            state.isOpen = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
