@testable import PQ
import PostgresTestSupport
import Testing

@Suite("Connection threads")
struct ConnectionThreadTests {
    @Test("the body of a pool lease runs on the leased connection's own thread, off the cooperative pool")
    func leaseRunsOnConnectionThread() async throws {
        try await withTestDatabase(.empty) { database in
            let pool = ConnectionPool(.init(conninfo: database.conninfo, maximumConnections: 2))
            let (before, after) = try await pool.withConnection { connection in
                let before = connection.thread.isCurrent
                try await connection.query("SELECT 1")
                return (before, connection.thread.isCurrent)
            }
            #expect(before)
            #expect(after)
            await pool.close()
        }
    }

    @Test("a task elsewhere is not on the connection's thread, and its queries still work")
    func otherTasksHop() async throws {
        try await withTestDatabase(.empty) { database in
            let connection = try await database.connect()
            #expect(!connection.thread.isCurrent)
            let value = try await connection.query("SELECT 41 + 1").scalar(Int.self)
            #expect(value == 42)
            await connection.close()
        }
    }
}
