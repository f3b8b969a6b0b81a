import Foundation
import PostgresTestSupport
import PQ
import Testing

/// Attack (issue 13, item 1): libpq takes C strings, so a bind holding a NUL byte used to
/// reach the server cut short, and `"pw\u{0}junk"` was checked as `"pw"` (an admin sign-in
/// lockout was bypassed with `"email\u{0}x"`). Every text that goes to libpq is now refused
/// before anything is sent.
@Suite("Security: NUL bytes never reach the server cut short")
struct NULByteTests {
    static func expectRefused(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            try await body()
            Issue.record("a text holding NUL was accepted", sourceLocation: sourceLocation)
        } catch let error as PostgresError {
            #expect(error.code == .characterNotInRepertoire, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains("NUL"), "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("a bound parameter with NUL is refused, plain or prepared, and the comparison it would have cut never runs")
    func boundParameter() async throws {
        try await withTestConnection(.empty) { connection in
            try await connection.query("CREATE TABLE secret (password text)")
            try await connection.query("INSERT INTO secret VALUES ('pw')")
            for prepared in [false, true] {
                await Self.expectRefused {
                    _ = try await connection.query("SELECT count(*) FROM secret WHERE password = $1", ["pw\u{0}junk"],
                                                   prepared: prepared)
                }
                await Self.expectRefused {
                    _ = try await connection.query("SELECT $1::text, $2::text", ["fine", "bob\u{0}"], prepared: prepared)
                }
            }
            // The connection is still usable, and the same query without NUL works.
            #expect(try await connection.query("SELECT count(*) FROM secret WHERE password = $1", ["pw"]).scalar(Int.self) == 1)
        }
    }

    @Test("statement text, scripts, connection strings and passwords to encrypt with NUL are refused")
    func otherTexts() async throws {
        try await withTestConnection(.empty) { connection in
            await Self.expectRefused { _ = try await connection.query("SELECT 1\u{0}; DROP TABLE x") }
            await Self.expectRefused { try await connection.execute(script: "SELECT 1;\u{0}SELECT 2;") }
            await Self.expectRefused { _ = try await connection.encryptPassword("pw\u{0}junk", user: "alice") }
            await Self.expectRefused { _ = try await Connection.connect("host=/tmp\u{0} dbname=x") }
            let alive = try await connection.query("SELECT 1").scalar(Int.self)
            #expect(alive == 1)
        }
    }
}
