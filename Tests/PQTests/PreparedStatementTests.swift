import PostgresTestSupport
import PQ
import Testing

@Suite("Prepared statements")
struct PreparedStatementTests {
    static let preparedCount = "SELECT count(*) FROM pg_prepared_statements"

    @Test("a statement is prepared once per connection and reused with new binds")
    func reuse() async throws {
        try await withTestConnection(.empty) { connection in
            let sql = "SELECT $1::int * 2"
            let four = try await connection.query(sql, [2], prepared: true).scalar(Int.self)
            let ten = try await connection.query(sql, [5], prepared: true).scalar(Int.self)
            let preparedCount = try await connection.query(Self.preparedCount).scalar(Int.self)
            #expect(four == 4)
            #expect(ten == 10)
            #expect(preparedCount == 1)
        }
    }

    @Test("after DISCARD ALL the statement is prepared again transparently")
    func discardAll() async throws {
        try await withTestConnection(.empty) { connection in
            let sql = "SELECT $1::text || '!'"
            let first = try await connection.query(sql, ["a"], prepared: true).scalar(String.self)
            try await connection.query("DISCARD ALL")
            let second = try await connection.query(sql, ["b"], prepared: true).scalar(String.self)
            #expect(first == "a!")
            #expect(second == "b!")
        }
    }

    @Test("a statement that fails to prepare reports the server error and is not cached")
    func failedPrepare() async throws {
        try await withTestConnection(.empty) { connection in
            let sql = "SELECT x FROM later"
            let error = try await #require(throws: PostgresError.self) { try await connection.query(sql, prepared: true) }
            #expect(error.code == .undefinedTable)
            try await connection.query("CREATE TABLE later (x int)")
            try await connection.query("INSERT INTO later VALUES (7)")
            let value = try await connection.query(sql, prepared: true).scalar(Int.self)
            #expect(value == 7)
        }
    }
}
