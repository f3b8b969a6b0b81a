import PostgresTestSupport
import PQ
import Testing

@Suite("Transactions")
struct TransactionTests {
    @Test("a thrown error rolls the transaction back")
    func rollbackOnError() async throws {
        struct Abort: Error {}
        try await withTestConnection(.empty) { connection in
            try await connection.query("CREATE TABLE t (x int)")
            await #expect(throws: Abort.self) {
                try await connection.withTransaction { connection in
                    try await connection.query("INSERT INTO t VALUES (1)")
                    throw Abort()
                }
            }
            #expect(try await connection.query("SELECT count(*) FROM t").scalar(Int.self) == 0)
            #expect(connection.transactionState == .idle)
        }
    }

    @Test("a committed transaction keeps its changes and returns the body's value")
    func commit() async throws {
        try await withTestConnection(.empty) { connection in
            try await connection.query("CREATE TABLE t (x int)")
            let inserted = try await connection.withTransaction { connection in
                try await connection.query("INSERT INTO t VALUES (1), (2)").affectedRows
            }
            #expect(inserted == 2)
            #expect(try await connection.query("SELECT count(*) FROM t").scalar(Int.self) == 2)
        }
    }

    @Test("a server error swallowed inside the body is not silently committed")
    func swallowedErrorIsReported() async throws {
        try await withTestConnection(.empty) { connection in
            try await connection.query("CREATE TABLE t (x int)")
            let error = try await #require(throws: PostgresError.self) {
                try await connection.withTransaction { connection in
                    try await connection.query("INSERT INTO t VALUES (1)")
                    _ = try? await connection.query("SELECT 1/0")
                }
            }
            #expect(error.code == .inFailedSQLTransaction)
            #expect(try await connection.query("SELECT count(*) FROM t").scalar(Int.self) == 0)
        }
    }

    @Test("read-only transactions refuse writes")
    func readOnly() async throws {
        try await withTestConnection(.empty) { connection in
            try await connection.query("CREATE TABLE t (x int)")
            let error = try await #require(throws: PostgresError.self) {
                try await connection.withTransaction(begin: "BEGIN READ ONLY") { connection in
                    try await connection.query("INSERT INTO t VALUES (1)")
                }
            }
            #expect(error.code == .readOnlySQLTransaction)
        }
    }
}
