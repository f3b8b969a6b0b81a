import Foundation
import PostgresTestSupport
import PQ
import Testing

@Suite("Values round-trip through the server")
struct ValueCodingTests {
    @Test("scalars of every supported type come back equal")
    func scalarsRoundTrip() async throws {
        try await withTestConnection(.empty) { connection in
            let id = UUID()
            let date = Date(timeIntervalSince1970: 1_763_812_872.123456)
            let bytes = Data([0, 1, 0xfe, 0xff])
            let row = try await connection.query(
                "SELECT $1::text, $2::int8, $3::bool, $4::uuid, $5::timestamptz, $6::bytea, $7::float8, $8::int4",
                ["héllo 'quoted' \"x\"", Int.max, true, id, date, bytes, 2.5, Int32(-7)]
            ).rows[0]
            #expect(try row.decode(String.self, at: 0) == "héllo 'quoted' \"x\"")
            #expect(try row.decode(Int.self, at: 1) == Int.max)
            #expect(try row.decode(Bool.self, at: 2) == true)
            #expect(try row.decode(UUID.self, at: 3) == id)
            let decoded = try row.decode(Date.self, at: 4)
            #expect(decoded.postgresText == date.postgresText)
            #expect(try row.decode(Data.self, at: 5) == bytes)
            #expect(try row.decode(Double.self, at: 6) == 2.5)
            #expect(try row.decode(Int32.self, at: 7) == -7)
        }
    }

    @Test("uuids are written as the server prints them and read back in either case; malformed text is refused")
    func uuidText() async throws {
        try await withTestConnection(.empty) { connection in
            let ids = (0..<500).map { _ in UUID() }
            // The server's own text of each uuid, against ours and Foundation's.
            let printed = try await connection.query("SELECT unnest($1::uuid[])::text", [ids]).map { try $0.decode(String.self, at: 0) }
            #expect(printed == ids.map { $0.postgresText })
            #expect(printed == ids.map { $0.uuidString.lowercased() })
            for id in ids.prefix(50) {
                #expect(try UUID(postgresText: id.uuidString, type: .uuid) == id)
                #expect(try UUID(postgresText: id.uuidString.lowercased(), type: .uuid) == id)
            }
            for malformed in ["", "x", "6ba7b810-9dad-11d1-80b4-00c04fd430c", "6ba7b810-9dad-11d1-80b4-00c04fd430cg",
                              "6ba7b8109-dad-11d1-80b4-00c04fd430c8", "6ba7b810+9dad-11d1-80b4-00c04fd430c8"] {
                #expect(throws: PostgresError.self, "\(malformed)") { try UUID(postgresText: malformed, type: .uuid) }
            }
        }
    }

    @Test("timestamps in other time zones and plain dates decode to the right instant")
    func datesInOtherZones() async throws {
        try await withTestConnection(.empty) { connection in
            try await connection.query("SET TimeZone TO 'Asia/Kolkata'")
            let row = try await connection.query(
                "SELECT '2026-11-22 12:00:00+00'::timestamptz, '2026-11-22'::date, 'infinity'::timestamptz").rows[0]
            #expect(try row.decode(Date.self, at: 0) == Date(timeIntervalSince1970: 1_795_348_800))
            #expect(try row.decode(Date.self, at: 1) == Date(timeIntervalSince1970: 1_795_305_600))
            #expect(try row.decode(Date.self, at: 2) == .distantFuture)
        }
    }

    @Test("text arrays round-trip, including quotes, commas, backslashes and empty arrays")
    func arraysRoundTrip() async throws {
        try await withTestConnection(.empty) { connection in
            let values = ["plain", "with space", "comma,inside", "quote\"inside", "back\\slash", "", "NULL", "{braces}"]
            let row = try await connection.query("SELECT $1::text[], $2::text[], cardinality($1::text[])",
                                                 [values, [String]()]).rows[0]
            #expect(try row.decode([String].self, at: 0) == values)
            #expect(try row.decode([String].self, at: 1) == [])
            #expect(try row.decode(Int.self, at: 2) == values.count)
            let ids = [UUID(), UUID()]
            #expect(try await connection.query("SELECT $1::uuid[]", [ids]).scalar([UUID].self) == ids)
        }
    }

    /// A quote or backslash followed by a combining mark is one Swift Character but two
    /// Unicode scalars; the literal must escape the scalar, as the server reads it.
    static let combiningValues = ["a\"\u{0301}b", "c\\\u{0301}d", "\"\u{0308}", "\\\u{0323}", "e\u{0301}\"\\\u{20DD}"]

    @Test("an array literal escapes a quote or backslash even when a combining mark follows it")
    func arrayLiteralEscapesPerScalar() {
        // Compared as bytes: Swift's == would equate canonically equivalent strings.
        let bytes = { (text: String?) in text.map { Array($0.utf8) } }
        #expect(bytes(["a\"\u{0301}b"].postgresText) == bytes("{\"a\\\"\u{0301}b\"}"))
        #expect(bytes(["c\\\u{0301}d"].postgresText) == bytes("{\"c\\\\\u{0301}d\"}"))
        #expect(bytes([String?.none, "x"].postgresText) == bytes("{NULL,\"x\"}"))
    }

    @Test("text arrays with a quote or backslash before a combining mark round-trip byte for byte")
    func arraysWithCombiningMarksRoundTrip() async throws {
        try await withTestConnection(.empty) { connection in
            let values = Self.combiningValues
            let row = try await connection.query("SELECT $1::text[], array_to_json($1::text[])::text", [values]).rows[0]
            // Byte for byte: Swift's == would equate canonically equivalent strings.
            #expect(try row.decode([String].self, at: 0).map { Array($0.utf8) } == values.map { Array($0.utf8) })
            let json = try JSONSerialization.jsonObject(with: Data(try row.decode(String.self, at: 1).utf8)) as? [String]
            #expect(json?.map { Array($0.utf8) } == values.map { Array($0.utf8) })
        }
    }

    @Test("jsonb reads as String and as Data")
    func jsonb() async throws {
        try await withTestConnection(.empty) { connection in
            let row = try await connection.query(#"SELECT '{"a": [1, 2]}'::jsonb"#).rows[0]
            #expect(try row.decode(String.self, at: 0) == #"{"a": [1, 2]}"#)
            let object = try JSONSerialization.jsonObject(with: try row.decode(Data.self, at: 0)) as? [String: [Int]]
            #expect(object == ["a": [1, 2]])
        }
    }

    @Test("NULL binds and NULL columns map to nil, and to an error for non-optional types")
    func nulls() async throws {
        try await withTestConnection(.empty) { connection in
            let row = try await connection.query("SELECT $1::text, $2::uuid, $3::int AS n",
                                                 [String?.none, PostgresNull(), Int?.none]).rows[0]
            #expect(try row.decode(String?.self, at: 0) == nil)
            #expect(try row.decode(UUID?.self, at: 1) == nil)
            #expect(row["n"] == nil)
            let error = try #require(throws: PostgresError.self) { try row.decode(Int.self, column: "n") }
            #expect(error.kind == .decoding)
        }
    }

    @Test("a value of the wrong shape is a decoding error naming the column")
    func decodingMismatch() async throws {
        try await withTestConnection(.empty) { connection in
            let row = try await connection.query("SELECT 'abc' AS word").rows[0]
            let error = try #require(throws: PostgresError.self) { try row.decode(Int.self, column: "word") }
            #expect(error.kind == .decoding)
            #expect(error.message.contains("word"))
        }
    }

    @Test("affected row counts and command tags are reported")
    func commandStatus() async throws {
        try await withTestConnection(.empty) { connection in
            try await connection.query("CREATE TABLE t (x int)")
            let insert = try await connection.query("INSERT INTO t SELECT generate_series(1, 5)")
            #expect(insert.affectedRows == 5)
            #expect(insert.commandTag == "INSERT 0 5")
            let select = try await connection.query("SELECT x FROM t ORDER BY x")
            #expect(try select.map { try $0.decode(Int.self, at: 0) } == [1, 2, 3, 4, 5])
        }
    }
}
