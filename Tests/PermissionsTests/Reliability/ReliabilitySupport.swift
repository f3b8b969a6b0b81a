import Foundation
import Permissions
import PQ
import Testing

// Shared helpers of the reliability suites: extra sessions on the fixture's database, a
// deterministic two-session interleaving, table snapshots and the effective-access oracle.

/// How one call ended: success, or the SQLSTATE (ours or raw) it failed with.
struct Outcome: Sendable, CustomStringConvertible {
    /// nil on success; the SQLSTATE otherwise ("?????" for a client-side error).
    let sqlState: String?
    let message: String

    static let success = Outcome(sqlState: nil, message: "success")

    init(sqlState: String?, message: String) {
        self.sqlState = sqlState
        self.message = message
    }

    init(_ error: any Error) {
        switch error {
        case let error as PermissionsError: self.init(sqlState: error.code.sqlState.rawValue, message: "\(error)")
        case let error as PostgresError: self.init(sqlState: error.code?.rawValue ?? "?????", message: "\(error)")
        default: self.init(sqlState: "?????", message: "\(error)")
        }
    }

    var succeeded: Bool { sqlState == nil }
    /// 40001: PostgreSQL refused the transaction because it raced a committed change; retry it.
    var isSerializationFailure: Bool { sqlState == "40001" }
    /// Whether it failed with one of the schema's own SQLSTATEs (class Q).
    var isOurError: Bool { sqlState?.hasPrefix("Q") ?? false }
    func failed(with code: PermissionsError.Code) -> Bool { sqlState == code.sqlState.rawValue }
    var description: String { sqlState.map { "\($0) (\(message))" } ?? "success" }

    static func of(_ body: () async throws -> Void) async -> Outcome {
        do {
            try await body()
            return .success
        } catch {
            return Outcome(error)
        }
    }
}

/// Another connection to the fixture's database, with its server process id.
struct Session: Sendable {
    let connection: Connection
    let pid: Int
    var auth: AuthClient { AuthClient(connection) }

    static func open(_ f: AuthFixture) async throws -> Session {
        let connection = try await f.database.connect()
        let pid = try await connection.query("SELECT pg_backend_pid()").scalar(Int.self)
        return Session(connection: connection, pid: pid)
    }

    func sql(_ text: String, _ binds: [any PostgresEncodable] = []) async throws {
        try await connection.query(text, binds)
    }

    func close() async { await connection.close() }
}

/// A flag one task sets and another polls.
final class DoneFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    func set() { lock.withLock { done = true } }
    var isSet: Bool { lock.withLock { done } }
}

/// What happened in a ``race(_:first:second:)``.
struct RaceResult: Sendable {
    let first: Outcome
    let second: Outcome
    /// Whether the second session was seen waiting for a lock held by the first.
    let secondWasBlocked: Bool
}

/// The transaction isolation levels PostgreSQL offers (READ UNCOMMITTED behaves as READ COMMITTED).
enum IsolationLevel: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
    var testDescription: String { rawValue }
}

enum Reliability {
    /// Generous: two slow cores shared by many tests.
    static let lockWaitTimeout: Duration = .seconds(90)

    /// Runs a deterministic interleaving of two sessions:
    /// session A begins and runs `first` without committing; session B begins and runs
    /// `second` in a task; once B is seen waiting for a lock held by A (polled from the
    /// fixture's connection through `pg_blocking_pids`), or has finished without waiting,
    /// A commits; then B commits (or rolls back if `second` failed).
    static func race(_ f: AuthFixture,
                     isolation: IsolationLevel = .readCommitted,
                     first: @escaping @Sendable (AuthClient) async throws -> Void,
                     second: @escaping @Sendable (AuthClient) async throws -> Void) async throws -> RaceResult {
        let a = try await Session.open(f)
        let b = try await Session.open(f)
        defer { Task { await a.close(); await b.close() } }

        try await a.sql("BEGIN")
        let firstOutcome = await Outcome.of { try await first(a.auth) }
        guard firstOutcome.succeeded else {
            try await a.sql("ROLLBACK")
            return RaceResult(first: firstOutcome, second: Outcome(sqlState: "-----", message: "not run"),
                              secondWasBlocked: false)
        }

        let done = DoneFlag()
        let task = Task { () -> Outcome in
            defer { done.set() }
            do { try await b.sql("BEGIN ISOLATION LEVEL \(isolation.rawValue)") } catch { return Outcome(error) }
            let outcome = await Outcome.of { try await second(b.auth) }
            do {
                try await b.sql(outcome.succeeded ? "COMMIT" : "ROLLBACK")
            } catch {
                return outcome.succeeded ? Outcome(error) : outcome
            }
            return outcome
        }

        let blocked: Bool
        do {
            blocked = try await waitUntilBlocked(f.connection, waiter: b.pid, holder: a.pid, orDone: done)
        } catch {
            try? await a.sql("ROLLBACK")
            _ = await task.value
            throw error
        }
        try await a.sql("COMMIT")
        let secondOutcome = await task.value
        return RaceResult(first: firstOutcome, second: secondOutcome, secondWasBlocked: blocked)
    }

    /// The other interleaving: session B begins at `isolation` and takes its snapshot; then
    /// `first` runs and commits in session A; then B runs `second` on its old snapshot and
    /// commits (or rolls back if `second` failed). Returns how `second` ended.
    static func onOlderSnapshot(_ f: AuthFixture, isolation: IsolationLevel,
                                first: @Sendable (AuthClient) async throws -> Void,
                                second: @Sendable (AuthClient) async throws -> Void) async throws -> Outcome {
        let a = try await Session.open(f)
        let b = try await Session.open(f)
        defer { Task { await a.close(); await b.close() } }
        try await b.sql("BEGIN ISOLATION LEVEL \(isolation.rawValue)")
        try await b.sql("SELECT count(*) FROM auth.tenant")  // the snapshot is taken here
        try await first(a.auth)
        let outcome = await Outcome.of { try await second(b.auth) }
        do {
            try await b.sql(outcome.succeeded ? "COMMIT" : "ROLLBACK")
        } catch {
            return outcome.succeeded ? Outcome(error) : outcome
        }
        return outcome
    }

    /// Polls until `waiter` waits for a lock held by `holder` (true) or `done` is set
    /// (false). Throws after ``lockWaitTimeout``.
    static func waitUntilBlocked(_ observer: Connection, waiter: Int, holder: Int, orDone done: DoneFlag) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + lockWaitTimeout
        while clock.now < deadline {
            if done.isSet { return false }
            let blocked = try await observer.query("SELECT $2::int = ANY (pg_blocking_pids($1::int))", [waiter, holder])
                .scalar(Bool.self)
            if blocked { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw PostgresError(kind: .usage, message: "session \(waiter) neither finished nor blocked on \(holder) in time")
    }

    // MARK: Snapshots

    /// Row count and a hash of the rows of every table of the auth schema, plus a hash of the
    /// schema's function definitions and of its list of tables.
    static func snapshot(_ connection: Connection) async throws -> [String: String] {
        var result: [String: String] = [:]
        let tables = try await connection.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'auth' ORDER BY 1").map { try $0.decode(String.self, at: 0) }
        result["(tables)"] = tables.joined(separator: ",")
        for table in tables {
            result[table] = try await connection.query("""
                SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '-')
                  FROM auth.\(table) t
                """).scalar(String.self)
        }
        result["(functions)"] = try await connection.query("""
            SELECT count(*) || ':' || md5(string_agg(pg_get_functiondef(p.oid), ',' ORDER BY p.oid))
              FROM pg_proc p WHERE p.pronamespace = 'auth'::regnamespace AND p.prokind = 'f'
            """).scalar(String.self)
        return result
    }

    /// The keys whose values differ between two snapshots.
    static func changed(_ before: [String: String], _ after: [String: String]) -> [String] {
        Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
    }

    // MARK: Effective access oracle

    /// Rows of `auth.effective_access` that differ from an independent computation from the
    /// source tables (the rules of the README), in ONE statement, so one snapshot: empty
    /// when the cache is right. Each line is prefixed `expected:` (missing or wrong in the
    /// cache) or `cached:` (a stale or wrong cache row).
    static let staleAccessSQL = """
        WITH expected AS (
            SELECT tu.tenant_id, tu.user_id,
                   EXISTS (SELECT FROM auth.owner o
                            WHERE o.tenant_id = tu.tenant_id AND o.user_id = tu.user_id
                              AND o.user_group_id IS NULL) AS is_owner,
                   ARRAY(SELECT DISTINCT p.permission_no
                           FROM (SELECT a.perm_set_id, a.permission_id
                                   FROM auth.permission_assignment a
                                  WHERE a.tenant_id = tu.tenant_id AND a.user_id = tu.user_id
                                 UNION ALL
                                 SELECT a.perm_set_id, a.permission_id
                                   FROM auth.user_group_member m
                                   JOIN auth.user_group g ON g.user_group_id = m.user_group_id AND g.is_active
                                   JOIN auth.permission_assignment a ON a.user_group_id = m.user_group_id
                                  WHERE m.tenant_id = tu.tenant_id AND m.user_id = tu.user_id) gr
                           LEFT JOIN auth.perm_set_permission sp ON sp.perm_set_id = gr.perm_set_id
                           JOIN auth.permission p ON p.permission_id = coalesce(gr.permission_id, sp.permission_id)
                          ORDER BY 1) AS permission_nos
              FROM auth.tenant_user tu
              JOIN auth.tenant t    ON t.tenant_id = tu.tenant_id AND t.is_active
              JOIN auth.user_info u ON u.user_id = tu.user_id AND u.is_active
             WHERE tu.is_active),
        cached AS (
            SELECT ea.tenant_id, ea.user_id, ea.is_owner,
                   ARRAY(SELECT DISTINCT x FROM unnest(ea.permission_nos) x ORDER BY 1) AS permission_nos
              FROM auth.effective_access ea)
        SELECT 'expected: ' || d::text FROM (SELECT * FROM expected EXCEPT SELECT * FROM cached) d
        UNION ALL
        SELECT 'cached: ' || d::text FROM (SELECT * FROM cached EXCEPT SELECT * FROM expected) d
        """

    static func staleAccess(_ connection: Connection) async throws -> [String] {
        try await connection.query(staleAccessSQL).map { try $0.decode(String.self, at: 0) }
    }

    /// The cache compared with a from-scratch recomputation by `auth.refresh_effective_access`
    /// of every membership, in a transaction rolled back afterwards. Empty when equal.
    static func refreshDifference(_ connection: Connection) async throws -> [String] {
        let read = "SELECT ea::text FROM auth.effective_access ea ORDER BY 1"
        return try await connection.withTransaction { connection in
            let before = try await connection.query(read).map { try $0.decode(String.self, at: 0) }
            try await connection.query("""
                SELECT auth.refresh_effective_access(array_agg(tu.tenant_id), array_agg(tu.user_id)) FROM auth.tenant_user tu
                """)
            let after = try await connection.query(read).map { try $0.decode(String.self, at: 0) }
            try await connection.query("ROLLBACK")
            try await connection.query("BEGIN")  // withTransaction commits this empty one
            let removed = Set(before).subtracting(after).sorted().map { "stale: \($0)" }
            let added = Set(after).subtracting(before).sorted().map { "missing: \($0)" }
            return removed + added
        }
    }
}
