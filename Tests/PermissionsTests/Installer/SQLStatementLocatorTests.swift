@testable import Permissions
import Testing

@Suite("Locating statements in SQL scripts")
struct SQLStatementLocatorTests {
    @Test("statement start lines skip comments, blank lines and quoted semicolons")
    func startLines() {
        let script = """
            -- header; with a semicolon
            CREATE TABLE a (x text DEFAULT ';');

            /* block; /* nested; */ still comment; */
            CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $body$
            BEGIN
              RETURN 'x;y';
            END $body$;
            SELECT "odd;name" FROM a; SELECT $$;$$
            """
        #expect(SQLStatementLocator.statementLines(in: script) == [2, 5, 9, 9])
    }

    @Test("positional parameters are not mistaken for dollar quotes")
    func parameters() {
        #expect(SQLStatementLocator.statementLines(in: "SELECT $1;\nSELECT 2;") == [1, 2])
    }

    @Test("a character position maps to its line")
    func positionToLine() {
        #expect(SQLStatementLocator.line(ofPosition: 1, in: "a\nb\nc") == 1)
        #expect(SQLStatementLocator.line(ofPosition: 3, in: "a\nb\nc") == 2)
        #expect(SQLStatementLocator.line(ofPosition: 5, in: "a\nb\nc") == 3)
    }
}
