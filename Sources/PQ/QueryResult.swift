/// A result column: its name and type.
public struct Column: Hashable, Sendable {
    public let name: String
    public let type: PostgresType
}

/// The rows and command status of one statement.
public struct QueryResult: Sendable, Sequence {
    public let columns: [Column]
    public let rows: [Row]
    /// The command tag, such as `INSERT 0 1` or `SELECT 3`.
    public let commandTag: String
    /// Rows inserted, updated, deleted or returned, when the command reports a count.
    public let affectedRows: Int?

    public func makeIterator() -> IndexingIterator<[Row]> { rows.makeIterator() }
    public var count: Int { rows.count }
    public var isEmpty: Bool { rows.isEmpty }

    /// The first column of the only row, decoded.
    ///
    /// - Throws: ``PostgresError`` of kind `.decoding` when there is not exactly one row.
    public func scalar<T: PostgresDecodable>(_ type: T.Type = T.self) throws -> T {
        try single().decode(T.self, at: 0)
    }
}

/// One result row. Values are kept in text format and decoded on request.
public struct Row: Sendable {
    public let columns: [Column]
    /// The raw text of each column, `nil` for NULL.
    public let values: [String?]

    /// Decodes the column at `index`. Decode as an `Optional` to accept NULL.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at index: Int) throws -> T {
        guard columns.indices.contains(index) else {
            throw PostgresError(kind: .decoding, message: "no column at index \(index); the row has \(columns.count)")
        }
        let column = columns[index]
        guard let text = values[index] else {
            if let optional = T.self as? any ExpressibleByNilLiteral.Type {
                return optional.init(nilLiteral: ()) as! T
            }
            throw PostgresError(kind: .decoding,
                                message: "column \"\(column.name)\" is NULL; decode it as \(T.self)?")
        }
        do {
            return try T(postgresText: text, type: column.type)
        } catch var error as PostgresError {
            error.message += " (column \"\(column.name)\")"
            throw error
        }
    }

    /// Decodes the column named `name` (the first one, if several share the name).
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, column name: String) throws -> T {
        guard let index = columns.firstIndex(where: { $0.name == name }) else {
            throw PostgresError(kind: .decoding, message: "no column named \"\(name)\"")
        }
        return try decode(T.self, at: index)
    }

    /// The raw text of the column named `name`, `nil` when NULL or absent.
    public subscript(name: String) -> String? {
        columns.firstIndex(where: { $0.name == name }).flatMap { values[$0] }
    }
}

extension QueryResult {
    /// The only row.
    ///
    /// - Throws: ``PostgresError`` of kind `.decoding` when there is not exactly one row.
    public func single() throws -> Row {
        guard rows.count == 1 else {
            throw PostgresError(kind: .decoding, message: "expected exactly one row, got \(rows.count)")
        }
        return rows[0]
    }
}
