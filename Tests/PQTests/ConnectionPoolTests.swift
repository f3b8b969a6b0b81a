import PostgresTestSupport
import PQ
import Testing

@Suite("Connection pool")
struct ConnectionPoolTests {
    @Test("many concurrent tasks share a small pool without exceeding its size")
    func concurrentUse() async throws {
        try await withTestDatabase(.empty) { database in
            let pool = ConnectionPool(.init(conninfo: database.conninfo, maximumConnections: 3))
            try await pool.query("CREATE TABLE hits (backend int)")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<60 {
                    group.addTask {
                        try await pool.query("INSERT INTO hits SELECT pg_backend_pid() FROM pg_sleep(0.005)")
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await pool.query("SELECT count(*) FROM hits").scalar(Int.self) == 60)
            let backends = try await pool.query("SELECT count(DISTINCT backend) FROM hits").scalar(Int.self)
            #expect(backends <= 3)
            #expect(await pool.connectionCount <= 3)
            await pool.close()
        }
    }

    @Test("an idle connection the server ended is replaced on the next lease: the request does not fail")
    func idleConnectionEndedByTheServer() async throws {
        try await withTestDatabase(.empty) { database in
            let pool = ConnectionPool(.init(conninfo: database.conninfo, maximumConnections: 1))
            let first = try await pool.query("SELECT pg_backend_pid()").scalar(Int.self)
            let killer = try await database.connect()
            try await killer.query("SELECT pg_terminate_backend($1::int, 5000)", [first])
            await killer.close()
            let second = try await pool.query("SELECT pg_backend_pid()").scalar(Int.self)
            #expect(second != first)
            #expect(pool.connectionCount == 1)
            await pool.close()
        }
    }

    @Test("a task that waits too long for a busy pool gets a clear error, not a hang")
    func acquireTimeout() async throws {
        try await withTestDatabase(.empty) { database in
            let pool = ConnectionPool(.init(conninfo: database.conninfo, maximumConnections: 1,
                                            acquireTimeout: .milliseconds(200)))
            let holder = Task { try await pool.query("SELECT pg_sleep(1)") }
            try await Task.sleep(for: .milliseconds(100))
            let error = try await #require(throws: PostgresError.self) { try await pool.query("SELECT 1") }
            #expect(error.kind == .pool)
            _ = try await holder.value
            #expect(try await pool.query("SELECT 1").scalar(Int.self) == 1)
            await pool.close()
        }
    }

    @Test("a connection returned inside a transaction is discarded, not reused mid-transaction")
    func leakedTransactionIsDiscarded() async throws {
        try await withTestDatabase(.empty) { database in
            let pool = ConnectionPool(.init(conninfo: database.conninfo, maximumConnections: 1))
            try await pool.withConnection { try await $0.query("BEGIN") }
            let state = try await pool.withConnection { $0.transactionState }
            #expect(state == .idle)
            await pool.close()
        }
    }

    @Test("pool transactions roll back on error")
    func poolTransaction() async throws {
        struct Abort: Error {}
        try await withTestDatabase(.empty) { database in
            let pool = ConnectionPool(.init(conninfo: database.conninfo, maximumConnections: 2))
            try await pool.query("CREATE TABLE t (x int)")
            await #expect(throws: Abort.self) {
                try await pool.withTransaction { connection in
                    try await connection.query("INSERT INTO t VALUES (1)")
                    throw Abort()
                }
            }
            #expect(try await pool.query("SELECT count(*) FROM t").scalar(Int.self) == 0)
            await pool.close()
        }
    }

    @Test("a closed pool refuses new work")
    func closedPool() async throws {
        try await withTestDatabase(.empty) { database in
            let pool = ConnectionPool(.init(conninfo: database.conninfo))
            await pool.close()
            let error = try await #require(throws: PostgresError.self) { try await pool.query("SELECT 1") }
            #expect(error.kind == .pool)
        }
    }
}
