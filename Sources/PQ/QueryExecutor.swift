/// Something that runs a statement: a ``Connection`` or a ``ConnectionPool``.
///
/// Code written against `QueryExecutor` works both inside a transaction (given the
/// transaction's connection) and outside one (given a pool).
public protocol QueryExecutor: Sendable {
    /// Runs one statement; see ``Connection/query(_:_:prepared:)``.
    @discardableResult
    func query(_ sql: String, _ binds: [any PostgresEncodable], prepared: Bool) async throws -> QueryResult
}

extension Connection: QueryExecutor {}
extension ConnectionPool: QueryExecutor {}
