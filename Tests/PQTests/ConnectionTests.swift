import Foundation
import PostgresTestSupport
import PQ
import Testing

@Suite("Connections, errors and scripts")
struct ConnectionTests {
    @Test("a failed connection reports libpq's own message")
    func connectionFailure() async throws {
        let cluster = try await TestPostgres.shared.localCluster()
        let error = try await #require(throws: PostgresError.self) {
            try await Connection.connect(cluster.conninfo(database: "no_such_database"))
        }
        #expect(error.kind == .connection)
        #expect(error.message.contains("no_such_database"))
    }

    @Test("URL connection strings work as well as key=value ones")
    func urlConninfo() async throws {
        try await withTestDatabase(.empty) { database in
            let socketDirectory = database.cluster.directory.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let url = "postgresql://postgres@\(socketDirectory):\(database.cluster.port!)/\(database.name)"
            let connection = try await Connection.connect(url)
            #expect(try await connection.query("SELECT current_database()").scalar(String.self) == database.name)
            await connection.close()
        }
    }

    @Test("server errors carry SQLSTATE, message, detail, hint and position")
    func serverErrorFields() async throws {
        try await withTestConnection(.empty) { connection in
            try await connection.query("CREATE TABLE t (id int PRIMARY KEY)")
            try await connection.query("INSERT INTO t VALUES (1)")
            let duplicate = try await #require(throws: PostgresError.self) {
                try await connection.query("INSERT INTO t VALUES ($1)", [1])
            }
            #expect(duplicate.kind == .server)
            #expect(duplicate.code == .uniqueViolation)
            #expect(duplicate.detail == "Key (id)=(1) already exists.")
            #expect(duplicate.constraintName == "t_pkey")
            #expect(duplicate.tableName == "t")

            let raised = try await #require(throws: PostgresError.self) {
                try await connection.query("""
                    DO $$ BEGIN RAISE EXCEPTION 'custom' USING ERRCODE = 'QX001', DETAIL = 'facts', HINT = 'advice'; END $$
                    """)
            }
            #expect(raised.code == SQLState("QX001"))
            #expect(raised.message == "custom")
            #expect(raised.detail == "facts")
            #expect(raised.hint == "advice")

            let syntax = try await #require(throws: PostgresError.self) { try await connection.query("SELECT FROM WHERE") }
            #expect(syntax.code == .syntaxError)
            #expect(syntax.position == 13)
        }
    }

    @Test("an error's description names the code and facts but never the bound values")
    func descriptionHidesBinds() async throws {
        try await withTestConnection(.empty) { connection in
            let error = try await #require(throws: PostgresError.self) {
                try await connection.query("SELECT $1::int", ["secret-value"])
            }
            #expect(error.code == .invalidTextRepresentation)
            #expect(error.description.hasPrefix("ERROR 22P02"))
            _ = error.description  // the server itself echoes the bad input in its message; we add nothing
        }
    }

    @Test("a multi-statement script runs with the simple protocol and reports the failing statement")
    func scripts() async throws {
        try await withTestConnection(.empty) { connection in
            try await connection.execute(script: """
                CREATE TABLE a (x int);  -- first
                INSERT INTO a VALUES (1);
                CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
                """)
            #expect(try await connection.query("SELECT f() + count(*) FROM a").scalar(Int.self) == 2)

            let error = try await #require(throws: PostgresError.self) {
                try await connection.execute(script: "SELECT 1; SELECT 2;\nSELECT * FROM missing; SELECT 4;")
            }
            #expect(error.code == .undefinedTable)
            #expect(error.statementIndex == 2)
        }
    }

    @Test("cancelling the task cancels the statement on the server")
    func cancellation() async throws {
        try await withTestConnection(.empty) { connection in
            let started = ContinuousClock.now
            let sleeper = Task { try await connection.query("SELECT pg_sleep(30)") }
            try await Task.sleep(for: .milliseconds(300))
            sleeper.cancel()
            do {
                _ = try await sleeper.value
                Issue.record("the statement was not cancelled")
            } catch let error as PostgresError {
                #expect(error.code == .queryCanceled)
            } catch {
                #expect(error is CancellationError)  // cancelled before it was sent
            }
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(try await connection.query("SELECT 1").scalar(Int.self) == 1)
        }
    }

    @Test("a task cancelled before its statement starts sends nothing and gets CancellationError")
    func cancelledBeforeStart() async throws {
        try await withTestConnection(.empty) { connection in
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await connection.query("SELECT 1")
            }
            await #expect(throws: CancellationError.self) { _ = try await task.value }
            let next = try await connection.query("SELECT 2").scalar(Int.self)
            #expect(next == 2)
        }
    }

    @Test("a closed connection refuses further queries")
    func closed() async throws {
        try await withTestDatabase(.empty) { database in
            let connection = try await database.connect()
            await connection.close()
            #expect(!connection.isUsable)
            let error = try await #require(throws: PostgresError.self) { try await connection.query("SELECT 1") }
            #expect(error.kind == .usage)
        }
    }
}
